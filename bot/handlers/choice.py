"""Taps on the style keyboard (a preset, a page, All styles, or My own style image) and on Try again."""
from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.texts import Texts
from bot.handlers.launch import launch
from bot.jobs import JobRunner
from bot.keyboards import (ALL, ALL_MORE, MAIN, MINE, MORE, OWN, RetryNST, StyleChoice, content_tag, in_group,
                           style_keyboard)
from bot.state import AsyncStore, ChatState
from bot.styles_client import StylesClient

router = Router(name="choice")


async def current_chat(query: CallbackQuery, tag: str, store: AsyncStore, tx: Texts) -> ChatState | None:
    """The tapping chat's state, or None (the tap answered) when the button belongs to an older photo."""
    chat = await store.chat(query.message.chat.id if query.message else query.from_user.id)
    if chat.content_file_id is None or content_tag(chat.content_file_id) != tag:
        await query.answer(tx.OLD_BUTTON, show_alert=True)
        return None
    return chat


@router.callback_query(StyleChoice.filter())
async def choose(query: CallbackQuery, callback_data: StyleChoice, store: AsyncStore, runner: JobRunner,
                 styles: StylesClient, tx: Texts) -> None:
    chat = await current_chat(query, callback_data.content, store, tx)
    if chat is None:
        return
    chat_id = chat.chat_id
    if callback_data.name == OWN:
        chat.awaiting = "style"
        await store.save_chat(chat)
        await query.answer()
        await query.bot.send_message(chat_id, tx.ASK_STYLE_IMAGE)
        return
    if callback_data.name in PAGES:
        await turn_page(query, PAGES[callback_data.name], callback_data.content, store, styles, tx)
        return
    if callback_data.name in (ALL, ALL_MORE):
        group = "more" if callback_data.name == ALL_MORE else "main"
        refusal = await launch(chat, "all", store, runner, styles, tx, group=group)
        count = len(in_group(await styles.catalogue(), group))
        await query.answer(refusal or tx.WORKING_ALL.format(count=count), show_alert=bool(refusal))
        return
    labels = {s["name"]: tx.label(s) for s in await styles.available()}
    if callback_data.name not in labels:
        await query.answer(tx.STYLE_GONE, show_alert=True)
        return
    refusal = await launch(chat, "preset", store, runner, styles, tx, preset=callback_data.name)
    await query.answer(refusal or tx.WORKING_PRESET.format(label=labels[callback_data.name]),
                       show_alert=bool(refusal))


PAGES = {MAIN: "main", MORE: "more", MINE: "mine"}


async def turn_page(query: CallbackQuery, page: str, tag: str, store: AsyncStore, styles: StylesClient,
                    tx: Texts) -> None:
    """The same message, another page of the keyboard; saved styles only while the fast model paints them."""
    if page == "mine" and not await styles.fast_served():
        await query.answer(tx.MY_STYLES_UNAVAILABLE, show_alert=True)
        return
    saved = await store.saved_styles(query.message.chat.id)
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=style_keyboard(await styles.catalogue(), tag, tx, page, saved))


@router.callback_query(RetryNST.filter())
async def retry_nst(query: CallbackQuery, callback_data: RetryNST, store: AsyncStore, runner: JobRunner,
                    styles: StylesClient, tx: Texts) -> None:
    """Run the chat's own-style job again from another start, after one whose style did not take."""
    chat = await current_chat(query, callback_data.content, store, tx)
    if chat is None:
        return
    refusal = await launch(chat, "nst", store, runner, styles, tx, seed=callback_data.seed)
    await query.answer(refusal or tx.NST_RETRYING, show_alert=bool(refusal))
