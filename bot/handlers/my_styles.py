"""Saved styles ("My styles"): Save this style under an own-style result, a saved style tapped on the style
keyboard's My styles page, and /styles' part that renames and deletes them."""
from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message

from bot.files import DownloadError, TelegramFiles
from bot.handlers.choice import current_chat
from bot.handlers.launch import launch
from bot.jobs import JobRunner, refusal_text
from bot.keyboards import SavedChoice, SavedEdit, SaveStyle, saved_styles_keyboard
from bot.limits import STYLE_NAME_MAX
from bot.my_styles import clean_name, default_name, renamed_style, renaming
from bot.state import MAX_SAVED_STYLES, AsyncStore, SavedStyle
from bot.styles_client import StylesClient, StylesError
from bot.texts import Texts
from models.error_codes import ErrorCode

router = Router(name="my_styles")


def tapping_chat(query: CallbackQuery) -> int:
    return query.message.chat.id if query.message else query.from_user.id


@router.callback_query(SaveStyle.filter())
async def save(query: CallbackQuery, callback_data: SaveStyle, store: AsyncStore, styles: StylesClient,
               files: TelegramFiles, tx: Texts) -> None:
    """Keep the style vector of the job's style image for the chat (never the image), under a default name."""
    chat_id = tapping_chat(query)
    job = await store.job(callback_data.job)
    if job is None or job.chat_id != chat_id or not job.style_file_id:
        await query.answer(tx.SAVE_TOO_OLD, show_alert=True)
        return
    saved = await store.saved_styles(chat_id)
    if len(saved) >= MAX_SAVED_STYLES:
        await query.answer(tx.MY_STYLES_FULL.format(count=MAX_SAVED_STYLES), show_alert=True)
        return
    try:
        vector = await styles.style_vector(await files.get(job.style_file_id))
    except DownloadError:
        await query.answer(tx.SAVE_TOO_OLD, show_alert=True)
        return
    except StylesError as e:
        await query.answer(tx.MY_STYLES_UNAVAILABLE if e.code == ErrorCode.FAST_UNAVAILABLE else refusal_text(e, tx),
                           show_alert=True)
        return
    same = next((s for s in saved if s.vector == vector), None)   # a second tap on the same result
    style = same or await store.save_style(chat_id, default_name(saved, tx), vector)
    if style is None:  # another replica saved the twelfth meanwhile
        await query.answer(tx.MY_STYLES_FULL.format(count=MAX_SAVED_STYLES), show_alert=True)
        return
    await query.answer((tx.ALREADY_SAVED if same else tx.SAVED_AS).format(name=style.name))
    if query.message and not same:
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except TelegramBadRequest:  # the message is too old to edit: the style is saved anyway
            pass


@router.callback_query(SavedChoice.filter())
async def paint(query: CallbackQuery, callback_data: SavedChoice, store: AsyncStore, runner: JobRunner,
                styles: StylesClient, tx: Texts) -> None:
    """Paint the chat's photo with a saved style: the fast model with the saved vector, like a preset."""
    chat = await current_chat(query, callback_data.content, store, tx)
    if chat is None:
        return
    style = await store.saved_style(chat.chat_id, callback_data.id)
    if style is None:
        await query.answer(tx.SAVED_STYLE_GONE, show_alert=True)
        return
    if not await styles.fast_served():
        await query.answer(tx.MY_STYLES_UNAVAILABLE, show_alert=True)
        return
    refusal = await launch(chat, "saved", store, runner, styles, tx, saved=style)
    await query.answer(refusal or tx.WORKING_PRESET.format(label=style.name), show_alert=bool(refusal))


def saved_styles_text(saved: list[SavedStyle], served: bool, tx: Texts) -> str:
    lines = [tx.MY_STYLES_HEADER, *(f"{n}. {escape(s.name)}" for n, s in enumerate(saved, 1)), "",
             tx.MY_STYLES_FOOTER if served else tx.MY_STYLES_OFF]
    return "\n".join(lines)


async def send_saved_styles(message: Message, store: AsyncStore, styles: StylesClient, tx: Texts) -> None:
    """/styles' "My styles" part, when the chat has saved styles: their names, rename and delete buttons."""
    saved = await store.saved_styles(message.chat.id)
    if saved:
        await message.answer(saved_styles_text(saved, await styles.fast_served(), tx),
                             reply_markup=saved_styles_keyboard(saved, tx))


@router.callback_query(SavedEdit.filter(F.action == "rename"))
async def ask_name(query: CallbackQuery, callback_data: SavedEdit, store: AsyncStore, tx: Texts) -> None:
    chat = await store.chat(tapping_chat(query))
    style = await store.saved_style(chat.chat_id, callback_data.id)
    if style is None:
        await query.answer(tx.SAVED_STYLE_GONE, show_alert=True)
        return
    chat.awaiting = renaming(style.id)
    await store.save_chat(chat)
    await query.answer()
    await query.bot.send_message(chat.chat_id, tx.ASK_STYLE_NAME.format(name=escape(style.name), max=STYLE_NAME_MAX))


@router.callback_query(SavedEdit.filter(F.action == "delete"))
async def delete(query: CallbackQuery, callback_data: SavedEdit, store: AsyncStore, styles: StylesClient,
                 tx: Texts) -> None:
    chat_id = tapping_chat(query)
    style = await store.saved_style(chat_id, callback_data.id)
    if style is None or not await store.delete_style(chat_id, style.id):
        await query.answer(tx.SAVED_STYLE_GONE, show_alert=True)
        return
    await query.answer(tx.STYLE_DELETED.format(name=style.name))
    saved = await store.saved_styles(chat_id)
    if query.message:
        try:
            if saved:
                await query.message.edit_text(saved_styles_text(saved, await styles.fast_served(), tx),
                                              reply_markup=saved_styles_keyboard(saved, tx))
            else:
                await query.message.edit_text(tx.MY_STYLES_NONE)
        except TelegramBadRequest:  # too old to edit: deleted anyway
            pass


async def naming(message: Message, store: AsyncStore) -> dict | bool:
    """A filter: the chat is naming a saved style (after Rename); hands the handler its id."""
    style_id = renamed_style((await store.chat(message.chat.id)).awaiting)
    return {"style_id": style_id} if style_id is not None else False


@router.message(F.text, ~F.text.startswith("/"), naming)
async def rename(message: Message, style_id: int, store: AsyncStore, tx: Texts) -> None:
    name = clean_name(message.text)
    if name is None:
        await message.answer(tx.BAD_STYLE_NAME.format(max=STYLE_NAME_MAX))
        return
    chat = await store.chat(message.chat.id)
    chat.awaiting = None
    await store.save_chat(chat)
    renamed = await store.rename_style(chat.chat_id, style_id, name)
    await message.answer(tx.STYLE_RENAMED.format(name=escape(name)) if renamed else tx.SAVED_STYLE_GONE)
