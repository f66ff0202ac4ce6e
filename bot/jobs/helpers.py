"""What a job's options and errors mean: the pure helpers the job's parts share."""
from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter, TelegramServerError

from bot import texts
from bot.limits import BUSY_RETRY_S
from bot.state import Job
from bot.styles_client import StylesError
from bot.telegram_fit import Fitted
from models.error_codes import IMAGE_CODES, ErrorCode
from models.limits import FULL, VIDEO_SIDE


def finishing(job: Job) -> tuple[float, bool]:
    """A preset job's strength and keep-colours (jobs saved before these settings existed: the painting)."""
    return job.options.get("strength", 1.0), job.options.get("keep_colors", False)


def result_format(job: Job) -> str:
    return "PNG" if job.options.get("send_file") else "JPEG"


def wants_file(job: Job) -> bool:
    """Whether the result goes out as a file too: asked for in the settings, or the photo came as a file."""
    return bool(job.options.get("send_file") or job.options.get("as_file"))


def shrunk_note(fitted: Fitted, tx: texts.Texts) -> str:
    """The caption's note for a picture made smaller to fit Telegram's limits ("" when it was not)."""
    if fitted.shrunk_from is None:
        return ""
    (w, h), (ow, oh) = fitted.size, fitted.shrunk_from
    return tx.SHRUNK_TO_FIT.format(width=w, height=h, painted_width=ow, painted_height=oh)


def painted_megapixels(job: Job) -> float:
    """How many megapixels the job paints: the photo's own at full size, else the photo fitted to the job's
    size (1 MP when the photo's size is unknown: a job from before it was kept)."""
    w, h = job.options.get("photo_size") or (1000, 1000)
    size = job.options.get("size")
    if job.kind == "nst":  # own style: the optimiser's size, or the quick painter's when it is the result
        size = job.options.get("fast" if job.options.get("own_style") == "quick" else "nst", {}).get("size")
    scale = 1.0 if size == FULL or not isinstance(size, int) else min(1.0, size / max(w, h))
    if job.kind == "video":   # every frame, at the size clips are painted at
        scale = min(1.0, VIDEO_SIDE / max(w, h))
        return w * h * scale * scale * max(1, int(job.options.get("frames", 1))) / 1e6
    return w * h * scale * scale / 1e6


def delivery_reason(e: BaseException) -> str:
    """A short, token-free reason for a failed send: Telegram's own description, or the error's kind."""
    if isinstance(e, (TelegramBadRequest, TelegramRetryAfter, TelegramServerError)):  # Telegram's own words
        return e.message.removeprefix("Bad Request: ")[:120]
    return type(e).__name__  # network errors can quote the request: keep only the kind


def language(job: Job) -> texts.Texts:
    """The texts of the language the person spoke when they started the job."""
    return texts.for_language(job.options.get("lang"))


def refusal_text(e: StylesError, tx: texts.Texts) -> str:
    """What the person reads when the styles app refuses a job: the bot's words for every ErrorCode."""
    own = {ErrorCode.NST_UNAVAILABLE: tx.UNAVAILABLE,
           ErrorCode.FAST_UNAVAILABLE: tx.MY_STYLES_UNAVAILABLE,  # a saved style's job (own style images fall back)
           ErrorCode.STYLE_NOT_TRANSFERRED: tx.NST_NOT_TRANSFERRED, ErrorCode.INTERRUPTED: tx.INTERRUPTED}
    if e.code == ErrorCode.BUSY:
        return tx.BUSY.format(seconds=e.retry_after or BUSY_RETRY_S)
    if e.code in own:
        return own[e.code]
    if e.code in IMAGE_CODES:
        return tx.bad_image(e.message, e.code)
    return tx.REQUEST_REFUSALS.get(str(e.code), e.message)
