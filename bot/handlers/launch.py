"""Starting a job for a chat from its saved photo, style image and settings."""
from __future__ import annotations

from bot.texts import Texts
from bot.jobs import JobRunner
from bot.keyboards import in_group
from bot.state import ChatState, SavedStyle, StateStore
from bot.styles_client import StylesClient


async def launch(chat: ChatState, kind: str, store: StateStore, runner: JobRunner, styles: StylesClient, tx: Texts,
                 preset: str | None = None, seed: int | None = None, group: str = "main",
                 saved: SavedStyle | None = None) -> str | None:
    """Queue and start a job; returns a refusal to show the person, or None when it started. The job keeps the
    person's language for what it says later, and a saved style's vector (it may be renamed or deleted meanwhile)."""
    if chat.content_file_id is None:
        return tx.ASK_PHOTO
    s = chat.settings
    options: dict = {**s.preset_options(), "send_file": s.send_file, "lang": tx.lang}
    if kind == "all":
        options["group"] = group
        options["presets"] = [p["name"] for p in in_group(await styles.catalogue(), group)]
        if not options["presets"]:
            return tx.NO_STYLES
    if kind == "saved":
        options.update(s.saved_style_options(), style_vector=saved.vector, style_name=saved.name)
    if kind == "nst":
        if chat.style_file_id is None:
            return tx.NO_STYLE_IMAGE
        options["nst"] = {k: min(v, runner.nst_caps[k]) if k in runner.nst_caps else v
                          for k, v in s.nst_options().items()}
        if seed is not None:
            options["nst"]["seed"] = seed
        options["own_style"], options["fast"] = s.own_style, s.fast_options()
        if s.own_style == "both" and "size" in runner.nst_caps:  # the quick version as big as the full one
            options["fast"]["size"] = min(options["fast"]["size"], runner.nst_caps["size"])
    job = store.create_job(chat.chat_id, kind, chat.content_file_id, preset=preset,
                           style_file_id=chat.style_file_id if kind == "nst" else None, options=options)
    if job is None:
        return tx.ONE_JOB
    runner.start(job)
    return None
