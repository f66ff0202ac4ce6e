"""Inline keyboards and the callback data they carry."""
from __future__ import annotations

import hashlib

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup, WebAppInfo
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import texts
from bot.state import OWN_STYLE_MODES, PRESET_STRENGTHS, QUALITIES, STRENGTHS, SavedStyle, Settings

ALL = "*all"            # every preset of the first page
ALL_MORE = "*allmore"   # every preset of the "More styles" page
OWN = "*own"
MORE = "*more"          # show the "More styles" page
MAIN = "*main"          # back to the first page
MINE = "*mine"          # show the "My styles" page (the chat's saved styles)


def content_tag(file_id: str) -> str:
    """A short, stable tag of a content file for callback data (64-byte limit)."""
    return hashlib.sha1(file_id.encode()).hexdigest()[:12]


class StyleChoice(CallbackData, prefix="style"):
    name: str                 # a preset name, ALL or OWN
    content: str              # the content file's unique id prefix: a button of an older photo is refused


class RetryNST(CallbackData, prefix="retry"):
    content: str              # as in StyleChoice: a retry of an older photo is refused
    seed: int                 # a new start for the optimiser, so the retry is a different run


class SaveStyle(CallbackData, prefix="save"):
    job: int                  # the own-style job whose style image is saved (as its style vector)


class SavedChoice(CallbackData, prefix="mine"):
    id: int                   # a saved style of the chat
    content: str              # as in StyleChoice


class SavedEdit(CallbackData, prefix="mystyle"):
    action: str               # "rename" or "delete"
    id: int


class SettingChoice(CallbackData, prefix="set"):
    key: str
    value: str


class LanguageChoice(CallbackData, prefix="lang"):
    lang: str


def in_group(styles: list[dict], group: str) -> list[dict]:
    """The available presets of one page: "main" (the first) or "more" ("More styles")."""
    return [s for s in styles if s.get("available") and s.get("group", "main") == group]


def style_keyboard(styles: list[dict], content_tag: str, tx: texts.Texts, page: str = "main",
                   saved: list[SavedStyle] = ()) -> InlineKeyboardMarkup:
    """The first page: its presets, More styles (when there are more), My styles (when the chat saved some), All
    styles, My own style image. The "more" page: its presets three to a row, All of these, Back. The "mine" page:
    the chat's saved styles, Back."""
    kb = InlineKeyboardBuilder()
    if page == "mine":
        for s in saved:
            kb.button(text=s.name, callback_data=SavedChoice(id=s.id, content=content_tag))
        kb.button(text=tx.BACK, callback_data=StyleChoice(name=MAIN, content=content_tag))
        kb.adjust(2)
        return kb.as_markup()
    shown = in_group(styles, page)
    for s in shown:
        kb.button(text=tx.label(s), callback_data=StyleChoice(name=s["name"], content=content_tag))
    if page == "more":
        if len(shown) > 1:
            kb.button(text=tx.ALL_OF_THESE, callback_data=StyleChoice(name=ALL_MORE, content=content_tag))
        kb.button(text=tx.BACK, callback_data=StyleChoice(name=MAIN, content=content_tag))
        kb.adjust(3)
        return kb.as_markup()
    if in_group(styles, "more"):
        kb.button(text=tx.MORE_STYLES, callback_data=StyleChoice(name=MORE, content=content_tag))
    if saved:
        kb.button(text=tx.MY_STYLES, callback_data=StyleChoice(name=MINE, content=content_tag))
    if len(shown) > 1:
        kb.button(text=tx.ALL_STYLES, callback_data=StyleChoice(name=ALL, content=content_tag))
    kb.button(text=tx.OWN_STYLE, callback_data=StyleChoice(name=OWN, content=content_tag))
    kb.adjust(2)
    return kb.as_markup()


def retry_keyboard(content_tag: str, seed: int, tx: texts.Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=tx.TRY_AGAIN, callback_data=RetryNST(content=content_tag, seed=seed))
    return kb.as_markup()


def studio_keyboard(url: str, tx: texts.Texts) -> InlineKeyboardMarkup:
    """One button that opens the studio page as a Mini App (Telegram adds the person's signed initData)."""
    kb = InlineKeyboardBuilder()
    kb.button(text=tx.STUDIO_BUTTON, web_app=WebAppInfo(url=url))
    return kb.as_markup()


def save_keyboard(job_id: int, tx: texts.Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=tx.BUTTON_SAVE_STYLE, callback_data=SaveStyle(job=job_id))
    return kb.as_markup()


def saved_styles_keyboard(saved: list[SavedStyle], tx: texts.Texts) -> InlineKeyboardMarkup:
    """/styles' "My styles" part: rename and delete, one row per saved style."""
    kb = InlineKeyboardBuilder()
    for s in saved:
        kb.button(text=tx.BUTTON_RENAME.format(name=s.name), callback_data=SavedEdit(action="rename", id=s.id))
        kb.button(text=tx.BUTTON_DELETE, callback_data=SavedEdit(action="delete", id=s.id))
    kb.adjust(2)
    return kb.as_markup()


def settings_keyboard(settings: Settings, tx: texts.Texts) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for q in QUALITIES:
        mark = "● " if settings.quality == q else ""
        kb.button(text=f"{mark}{tx.QUALITY_NAMES[q]}", callback_data=SettingChoice(key="quality", value=q))
    for s in STRENGTHS:
        mark = "● " if settings.strength == s else ""
        kb.button(text=mark + tx.BUTTON_STRENGTH.format(strength=f"{s:g}"),
                  callback_data=SettingChoice(key="strength", value=f"{s:g}"))
    for p in PRESET_STRENGTHS:
        mark = "● " if settings.preset_strength == p else ""
        kb.button(text=mark + tx.BUTTON_PRESET.format(percent=p),
                  callback_data=SettingChoice(key="preset_strength", value=str(p)))
    for mode in OWN_STYLE_MODES:
        mark = "● " if settings.own_style == mode else ""
        kb.button(text=f"{mark}{tx.OWN_STYLE_MODE_BUTTONS[mode]}",
                  callback_data=SettingChoice(key="own_style", value=mode))
    kb.button(text=tx.BUTTON_KEEP_COLORS.format(state=tx.ON if settings.keep_colors else tx.OFF),
              callback_data=SettingChoice(key="keep_colors", value="toggle"))
    kb.button(text=tx.BUTTON_SEND_FILE.format(state=tx.ON if settings.send_file else tx.OFF),
              callback_data=SettingChoice(key="send_file", value="toggle"))
    kb.adjust(len(QUALITIES), len(STRENGTHS), len(PRESET_STRENGTHS), len(OWN_STYLE_MODES), 1, 1)
    return kb.as_markup()


def language_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for lang, name in texts.LANGUAGES.items():
        kb.button(text=name, callback_data=LanguageChoice(lang=lang))
    return kb.as_markup()


def apply_setting(settings: Settings, key: str, value: str) -> bool:
    """Apply one tap to `settings`; False when the button is not one we know."""
    if key == "quality" and value in QUALITIES:
        settings.quality = value
    elif key == "strength" and _number(value) in STRENGTHS:
        settings.strength = float(value)
    elif key == "preset_strength" and _number(value) in PRESET_STRENGTHS:
        settings.preset_strength = int(value)
    elif key == "own_style" and value in OWN_STYLE_MODES:
        settings.own_style = value
    elif key in ("keep_colors", "send_file") and value == "toggle":
        setattr(settings, key, not getattr(settings, key))
    else:
        return False
    return True


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
