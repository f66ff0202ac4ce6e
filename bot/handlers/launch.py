"""Starting a job for a chat from its saved photo, style image and settings."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from bot.texts import Texts
from bot.jobs import JobRunner
from bot.keyboards import in_group
from bot.state import AsyncStore, ChatState, SavedStyle, StoreUnavailable
from bot.styles_client import StylesClient
from models.limits import FULL

logger = logging.getLogger("ray.serve.stylebot")


class JobNotRecorded(StoreUnavailable):
    """The store did not take a new job in time: the person is told so (bot/update_intake.py), and `forget_unrecorded`
    cancels the job should the call write it after all once the store is back."""

    def __init__(self, cause: StoreUnavailable, chat_id: int, asked: float, gave_up: float):
        super().__init__(str(cause), cause.late)
        self.chat_id, self.asked, self.gave_up = chat_id, asked, gave_up


async def forget_unrecorded(store: AsyncStore, e: JobNotRecorded) -> None:
    """Once the call that timed out has ended and the store answers: a queued job of the chat it made after all
    (made between the call and giving up on it) is cancelled before it runs. The person heard it was not taken."""
    if e.late is not None:
        with contextlib.suppress(Exception):
            await asyncio.wrap_future(e.late)
    try:
        job = await store.patient.active_job(e.chat_id)
        if job is not None and job.status == "queued" and e.asked <= job.created <= e.gave_up:
            if await store.patient.move_job(job.id, "cancelled", ("queued",), "not recorded in time"):
                logger.info("job %d: written after the person was told it was not; cancelled", job.id)
    except StoreUnavailable as still:
        logger.warning("a job that may have been written late was not looked for: %s", still)


def photo_options(chat: ChatState, kind: str, options: dict) -> dict:
    """What the chat's photo adds to a job's options: its size (the waiting line counts megapixels), and for a
    photo sent as a file, the painting at the photo's own size, sent back as a file (own style: the quick version
    when that is the result, and the optimiser's result brought to the photo's size with a full-size painting's
    detail)."""
    info, added = chat.content, {}
    if info.width and info.height:
        added["photo_size"] = [info.width, info.height]
    if info.as_file:
        added["as_file"] = True
        if kind in ("preset", "saved"):
            added["size"] = FULL
        if kind == "nst" and options.get("own_style") == "quick":
            added["fast"] = {**options["fast"], "size": FULL}
        if kind == "nst" and "nst" in options:  # the optimiser's picture brought to the photo's size
            added["nst"] = {**options["nst"], "full_size": True}
    return added


async def launch_clip(chat: ChatState, kind: str, store: AsyncStore, runner: JobRunner, tx: Texts,
                      preset: str | None, saved: SavedStyle | None) -> str | None:
    """A clip's job (kind "video"): one preset, a saved style, or the own style image with the quick network
    (never Gatys: minutes a frame); the clip goes back the way it came (an animation, a video, a video note)."""
    s, info = chat.settings, chat.content
    if kind == "all":
        return tx.CLIP_ONE_STYLE
    if kind == "nst" and chat.style_file_id is None:
        return tx.NO_STYLE_IMAGE
    if kind == "nst" and s.own_style == "full":
        return tx.REQUEST_REFUSALS["no_nst_for_video"]
    options: dict = {"strength": s.preset_strength / 100 if kind == "preset" else min(s.strength, 1.0),
                     "keep_colors": s.keep_colors, "lang": tx.lang, "clip": info.clip,
                     "photo_size": [info.width, info.height], "frames": info.frames}
    if kind == "saved":
        options.update(style_vector=saved.vector, style_name=saved.name)
    return await _created(store, runner, chat, "video", preset, chat.style_file_id if kind == "nst" else None,
                          options, tx)


async def _created(store: AsyncStore, runner: JobRunner, chat: ChatState, kind: str, preset: str | None,
                   style_file_id: str | None, options: dict, tx: Texts) -> str | None:
    """Record the job and start it; ONE_JOB when the chat has one already, JobNotRecorded when the store did
    not take it."""
    asked = time.time()
    try:
        job = await store.create_job(chat.chat_id, kind, chat.content_file_id, preset=preset,
                                     style_file_id=style_file_id, options=options)
    except StoreUnavailable as e:
        raise JobNotRecorded(e, chat.chat_id, asked, time.time()) from None
    if job is None:
        return tx.ONE_JOB
    await runner.start(job)   # when the store does not answer here, adopt_orphans starts the job a lease later
    return None


async def launch(chat: ChatState, kind: str, store: AsyncStore, runner: JobRunner, styles: StylesClient, tx: Texts,
                 preset: str | None = None, seed: int | None = None, group: str = "main",
                 saved: SavedStyle | None = None) -> str | None:
    """Queue and start a job; returns a refusal to show the person, or None when it started (JobNotRecorded when
    the store did not take it). The job keeps the person's language for what it says later, and a saved style's
    vector (it may be renamed or deleted meanwhile)."""
    if chat.content_file_id is None:
        return tx.ASK_PHOTO
    if chat.content.is_clip:
        return await launch_clip(chat, kind, store, runner, tx, preset, saved)
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
    options.update(photo_options(chat, kind, options))
    return await _created(store, runner, chat, kind, preset, chat.style_file_id if kind == "nst" else None,
                          options, tx)
