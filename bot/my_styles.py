"""Saved styles' names and the rename conversation: a default name for a new one, a checked new name, and the
chat's `awaiting` marker while the bot waits for a name."""
from __future__ import annotations

from bot import texts
from bot.limits import STYLE_NAME_MAX
from bot.state import SavedStyle

RENAMING = "rename:"   # ChatState.awaiting while the next text message names saved style N: "rename:N"


def default_name(saved: list[SavedStyle], tx: texts.Texts) -> str:
    """"My style N": N one past the count, moved on past names in use (after a delete, "My style 2" may remain)."""
    taken = {s.name for s in saved}
    n = len(saved) + 1
    while tx.DEFAULT_STYLE_NAME.format(n=n) in taken:
        n += 1
    return tx.DEFAULT_STYLE_NAME.format(n=n)


def clean_name(text: str) -> str | None:
    """The name a person typed, its whitespace runs made single spaces; None unless 1..STYLE_NAME_MAX long."""
    name = " ".join(text.split())
    return name if 1 <= len(name) <= STYLE_NAME_MAX else None


def renaming(style_id: int) -> str:
    return f"{RENAMING}{style_id}"


def renamed_style(awaiting: str | None) -> int | None:
    """The saved style a chat is naming, from its `awaiting` marker; None when it is not naming one."""
    if not awaiting or not awaiting.startswith(RENAMING) or not awaiting[len(RENAMING):].isdigit():
        return None
    return int(awaiting[len(RENAMING):])
