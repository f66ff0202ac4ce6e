"""Everything the bot says, in English (this module) and Russian (bot/texts_ru.py, the same names). Plain text
with HTML markup where noted (aiogram's default parse mode is HTML).

Handlers get a `Texts` for the person's language (bot/language.py picks it: /language, else Telegram's
language_code); `texts.X` is the English text, and what tests compare against.
"""
from __future__ import annotations

import string
import sys
from html import escape

from bot import texts_ru
from bot.limits import TELEGRAM_DOWNLOAD_BYTES
from models.limits import MAX_CLIP_SECONDS

MAX_DOWNLOAD_MB = TELEGRAM_DOWNLOAD_BYTES // (1024 * 1024)
LANGUAGES = {"en": "English", "ru": "Русский"}

START = ("Hi, {name}! I turn photos into paintings.\n\n"
         "Send me a photo (as a photo or as a file) and pick a style: one of my painters, "
         "all of them at once, or a painting of your own.")
SOMEONE = "there"
HELP = (
    "<b>How it works</b>\n"
    "1. Send a photo (compressed, or as a file: JPEG, PNG, WebP).\n"
    "2. Tap a style: a painter (a few seconds), <i>All styles</i> (one album), or <i>My own style image</i> "
    "and then send any painting: I repaint your photo in its style (a quick version in seconds, the full "
    "painting in a minute or more; you see it progress).\n\n"
    f"GIFs, videos and video notes (up to {MAX_CLIP_SECONDS} s) are painted too, every frame, in the style you tap.\n\n"
    "Under a painting in your own style, <i>Save this style</i> keeps it: <i>My styles</i> then paints any "
    "photo in it in one tap.\n\n"
    "/styles - the painters I know, and your saved styles (rename, delete)\n"
    "/settings - quality, style strength, preset strength, quick or full own-style paintings, keep colours, "
    "full-size file\n"
    "/language - language (English / русский)\n"
    "/studio - the studio: every style side by side on your photo, in a page inside Telegram\n"
    "/cancel - stop what I am doing\n"
    "Shortcuts: a photo captioned /style becomes the style image; /nst paints your last photo in it; "
    "/gan paints your last photo in every style."
)

ASK_PHOTO = "Send me a photo first (as a photo or as an image file)."
CHOOSE_STYLE = "Nice photo! Pick a style:"
CHOOSE_STYLE_CLIP = "Nice clip! Pick a style and I'll paint every frame:"
CLIP_ONE_STYLE = "A clip is painted in one style at a time: pick one from the list."
CLIP_STARTED = "Painting your clip: starting..."
CLIP_PROGRESS = "Painting your clip: {percent}% ({done} of {total} frames)"
CAPTION_CLIP_OWN = "Your clip in your own style (quick version)"
ASK_STYLE_IMAGE = ("Now send the painting whose style you want (as a photo or a file). "
                   "/cancel to go back to the styles.")
STYLE_SAVED_NO_CONTENT = "Style image saved. Send the photo to paint, then /nst."
STYLE_SAVED = "Style image saved. Send /nst to paint your last photo in it, or send a new photo."
NO_STYLE_IMAGE = "I have no style image yet: send a painting with the caption /style, then /nst."
WORKING_PRESET = "Painting it as {label}..."
WORKING_ALL = "Painting it in all {count} styles..."
NST_STARTED = "Painting your photo in that style: starting..."
NST_PROGRESS = "Painting your photo in that style: {percent}% (step {step} of {total})"
CAPTION_NST = "Your own style"
CAPTION_QUICK = "A quick version; the full painting follows."
CAPTION_FAST = "Your own style (quick version)"
OWN_STYLE_MODE_BUTTONS = {"both": "quick + full", "quick": "quick only", "full": "full only"}
OWN_STYLE_MODE_NAMES = {"both": "a quick version first, then the full painting", "quick": "the quick version only",
                        "full": "the full painting only"}
MORE_STYLES = "More styles ›"
ALL_STYLES = "All styles"
ALL_OF_THESE = "All of these"
BACK = "‹ Back"
OWN_STYLE = "My own style image"
CAPTION_FILE = "Full-resolution file"
TILES_PROGRESS = "Painting it at full size ({width}x{height}): {percent}% (part {done} of {total})"
SHRUNK_TO_FIT = "\n(made {width}x{height} to fit Telegram's limits; painted at {painted_width}x{painted_height})"
ALBUM_LEFT_OUT = "Some styles were busy and are missing from the album: {names}. Tap one to try it again."
ONE_JOB = "I'm still working on your last picture. Wait for it, or /cancel it first."
CANCELLED = "Cancelled. Send a photo whenever you like."
NOTHING_TO_CANCEL = "Nothing to cancel. Send me a photo!"
RESTARTED_RESUMING = "I was restarted while working on your picture; picking it up again."
RESTARTED_UNSURE = ("I was restarted while sending your result. If it did not arrive, pick the style again "
                    "(your photo is still here).")
NO_STYLES = "No styles are installed right now. You can still use My own style image."
STYLES_HEADER = "<b>Styles</b>"
MORE_STYLES_HEADER = "<b>More styles</b>"
STYLES_FOOTER = "Send a photo to use them."
STYLES_SHEET = "Every style on one photo"
STYLE_GONE = "That style is not available any more. Pick another one:"
OLD_BUTTON = "That button belongs to an older photo. Send the photo again."

NOT_AN_IMAGE = "That's not an image I can paint. Send a photo, a JPEG, PNG or WebP file, a GIF or a video."
STICKER = "Stickers can't be painted. Send a photo, or a JPEG, PNG or WebP file."
STUDIO_INTRO = "The studio shows every style on your photo side by side. Open it here:"
STUDIO_BUTTON = "Open the studio"
STUDIO_UNAVAILABLE = ("The studio needs this bot to be reachable over HTTPS, and it opens in a private chat with "
                      "me. Meanwhile, send a photo here and pick a style.")
STUDIO_CAPTION = "From the studio"
MENU_STUDIO = "Studio"
# The list behind "/" in Telegram's message field (bot/menus.py): a few words each.
COMMAND_DESCRIPTIONS = {
    "styles": "The painters I know, and your saved styles",
    "settings": "Quality, strength, colours, full-size file",
    "studio": "Every style side by side on your photo",
    "language": "English or Russian",
    "cancel": "Stop what I am doing",
    "help": "How it works",
}
UNKNOWN_COMMAND = "I don't know that command. /help lists what I can do."
TEXT_WHEN_IMAGE_EXPECTED = "I need a picture, not text. Send a photo (or /help)."
TEXT_WHEN_STYLE_EXPECTED = "I'm waiting for the style image: send a painting as a photo or file, or /cancel."
FILE_TOO_BIG = (f"That file is over {MAX_DOWNLOAD_MB} MB, the most a Telegram bot may download. "
                "Send it as a photo (Telegram compresses it) or a smaller file.")
BUSY = "I'm busy painting for others right now. Try again in about {seconds} seconds."
QUEUED = "All my painters are busy. You're {place} in line, about {seconds} s. /cancel leaves the line."
FAILED = "Sorry, something went wrong while painting. Try again, or pick another style."
UNAVAILABLE = "Painting with your own style image is unavailable right now. Try a preset style."
DOWNLOAD_FAILED = "I couldn't download that file from Telegram. Send it again, please."
NST_NOT_TRANSFERRED = ("That style didn't take on your photo: the result still looked like the photo, so I "
                       "didn't send it. Tap Try again for a fresh attempt, or pick a preset style.")
TRY_AGAIN = "Try again"
SLOW_DOWN = ("Whoa, that's a lot at once! I'm skipping messages for a few seconds. Send one photo, wait for "
             "the styles, then pick one.")
TAP_FAILED = "Sorry, that button didn't work. Send /start to begin again."
NOT_RECORDED = "Sorry, I couldn't take that just now: my memory isn't answering. Please try again in a minute."
DELIVERY_FAILED = ("Your picture was ready, but Telegram wouldn't take it from me ({reason}). Pick the style "
                   "again, or send the photo again.")
NST_RETRYING = "Trying again from a different start..."
INTERRUPTED_RESTARTING = "The painter restarted while working on your picture; starting it again..."
INTERRUPTED = ("The painting service restarted while working on your picture, twice. Try again in a minute: "
               "pick the style again (your photo is still here).")


BAD_IMAGE = "{message} Send another photo."
BAD_IMAGE_REASONS: dict[str, str] = {}  # English shows the styles service's own (English) explanation
# The bot's words for the styles service's other refusals (models.error_codes.ErrorCode; busy, the unavailable
# painters, a style that did not take and an interrupted job have their own texts above and below)
REQUEST_REFUSALS = {
    "bad_option": "Something in that request was out of range. Check /settings and try again.",
    "bad_request": "That request could not be read. Send the photo again.",
    "unknown_style": "That style is no longer in the catalogue. Send the photo again to see today's styles.",
    "style_unavailable": "That style is unavailable right now. Pick another one.",
    "not_found": "That request went nowhere. Send the photo again.",
    "method_not_allowed": "That request went nowhere. Send the photo again.",
    "http_error": "The painting service could not take that request. Try again in a minute.",
    "unauthorized": "The painting service did not let me in. Try again later.",
    "rate_limited": "The painting service has had too many requests. Try again in a minute.",
    "not_a_video": "I can't read that as a video. Send an MP4, a GIF or a WebM clip.",
    "unreadable_video": "That video could not be read: it may be damaged or cut off. Send it again.",
    "empty_video": "That video has no frames in it. Send another one.",
    "video_too_long": (f"That clip is too long for me: I paint up to {MAX_CLIP_SECONDS} seconds. "
                       "Trim it and send it again."),
    "video_too_large": f"That file is too large for me (over {MAX_DOWNLOAD_MB} MB). Send a shorter or smaller clip.",
    "no_nst_for_video": ("Clips are painted with the preset styles or your own style's quick version; the slow "
                         "painter would take hours. Pick a preset, or switch /settings own style to quick."),
}

SETTINGS_TITLE = "<b>Settings</b>"
SETTINGS_QUALITY = "Quality: {quality} (bigger is slower)"
SETTINGS_STRENGTH = "Style strength (own style images): {strength}x"
SETTINGS_PRESET_STRENGTH = "Preset strength (how much painting over your photo): {percent}%"
SETTINGS_OWN_STYLE = "Own style images: {mode}"
SETTINGS_KEEP_COLORS = "Keep my photo's colours: {answer}"
SETTINGS_SEND_FILE = "Also send the full-resolution file: {answer}"
YES = "yes"
NO = "no"
ON = "on"
OFF = "off"
QUALITY_NAMES = {"fast": "fast", "standard": "standard", "best": "best"}
BUTTON_STRENGTH = "strength {strength}x"
BUTTON_PRESET = "preset {percent}%"
BUTTON_KEEP_COLORS = "keep colours: {state}"
BUTTON_SEND_FILE = "full-size file: {state}"
CHOOSE_LANGUAGE = "Choose a language / Выберите язык:"
LANGUAGE_SET = "Done: I speak English now."
SAVED = "Saved"
OPTION_GONE = "That option no longer exists: send /settings again."

# Saved styles ("My styles"): an own style image's style vector, kept for the chat, a one-tap preset
BUTTON_SAVE_STYLE = "Save this style"
MY_STYLES = "My styles ›"
DEFAULT_STYLE_NAME = "My style {n}"
SAVED_AS = "Saved as “{name}”: it is under My styles with your next photo."
ALREADY_SAVED = "That style is saved already, as “{name}”."
MY_STYLES_FULL = "You have {count} saved styles, the most I keep. Delete one in /styles first."
SAVE_TOO_OLD = "I no longer have that style image. Send it again with My own style image."
MY_STYLES_UNAVAILABLE = ("Saved styles are unavailable right now: the quick painter is not running. Try a preset "
                         "or My own style image.")
CAPTION_SAVED = "{name} (your saved style)"
SAVED_STYLE_GONE = "That saved style no longer exists."
MY_STYLES_HEADER = "<b>My styles</b>"
MY_STYLES_FOOTER = "Each one paints in one tap: My styles, under your photo. Rename or delete them here."
MY_STYLES_OFF = "Unavailable right now: the quick painter is not running."
MY_STYLES_NONE = "You have no saved styles. Tap Save this style under a painting in your own style to keep one."
BUTTON_RENAME = "✏️ Rename “{name}”"
BUTTON_DELETE = "🗑 Delete"
ASK_STYLE_NAME = "Send the new name for “{name}” ({max} characters at most), or /cancel."
BAD_STYLE_NAME = "A name is 1 to {max} characters. Send another one, or /cancel."
STYLE_RENAMED = "Renamed: “{name}”."
STYLE_DELETED = "Deleted “{name}”."


# The catalogue's own words are English: English shows them as they are (bot/texts_ru.py translates them).
STYLE_LABELS: dict[str, str] = {}
STYLE_DESCRIPTIONS: dict[str, str] = {}
STYLE_ORIGINS: dict[str, str] = {}


class Texts:
    """The texts of one language: `tx.CHOOSE_STYLE`, `tx.start(name)`, ..."""

    def __init__(self, lang: str):
        self.lang = lang if lang in LANGUAGES else "en"
        self._module = texts_ru if self.lang == "ru" else sys.modules[__name__]

    def __getattr__(self, name: str):
        if name.isupper():
            return getattr(self._module, name)
        raise AttributeError(name)

    def start(self, first_name: str | None) -> str:
        return self.START.format(name=escape(first_name or self.SOMEONE))

    def place(self, n: int) -> str:
        """A place in line: 1st, 2nd, 3rd, 11th, 22nd; 1-й, 2-й in Russian."""
        if self.lang == "ru":
            return f"{n}-й"
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"

    def bad_image(self, message: str, code: str | None = None) -> str:
        return self.BAD_IMAGE.format(message=self.BAD_IMAGE_REASONS.get(code or "", message))

    def nst_progress(self, step: int, total: int) -> str:
        percent = min(99, int(100 * step / max(total, 1)))
        return self.NST_PROGRESS.format(percent=percent, step=step, total=total)

    def clip_progress(self, done: int, total: int) -> str:
        return self.CLIP_PROGRESS.format(percent=min(99, int(100 * done / max(total, 1))), done=done, total=total)

    def tiles_progress(self, done: int, total: int, size: tuple[int, int]) -> str:
        percent = min(99, int(100 * done / max(total, 1)))
        return self.TILES_PROGRESS.format(percent=percent, done=done, total=total, width=size[0], height=size[1])

    def label(self, style: dict) -> str:
        """A catalogue entry's label in this language (the catalogue's own when there is no translation)."""
        return self.STYLE_LABELS.get(style["name"], style["label"])

    def description(self, style: dict) -> str:
        return self.STYLE_DESCRIPTIONS.get(style["name"], style.get("description") or "")

    def captions(self, styles: list[dict]) -> dict[str, str]:
        """What each result is captioned with, by preset: its label and whose weights painted it."""
        def caption(s: dict) -> str:
            origin = s.get("origin")
            return f"{self.label(s)} ({self.STYLE_ORIGINS.get(origin, origin)})" if origin else self.label(s)
        return {s["name"]: caption(s) for s in styles}

    def styles_list(self, styles: list[dict]) -> str:
        lines = []
        for group, header in (("main", self.STYLES_HEADER), ("more", self.MORE_STYLES_HEADER)):
            shown = [s for s in styles if s.get("available") and s.get("group", "main") == group]
            if shown:
                lines += [("\n" if lines else "") + header]
                lines += [f"• <b>{escape(self.label(s))}</b>: {escape(self.description(s))}" for s in shown]
        if not lines:
            return self.NO_STYLES
        return "\n".join(lines) + "\n\n" + self.STYLES_FOOTER

    def settings_summary(self, settings) -> str:
        answer = {True: self.YES, False: self.NO}
        return "\n".join([
            self.SETTINGS_TITLE,
            self.SETTINGS_QUALITY.format(quality=self.QUALITY_NAMES[settings.quality]),
            self.SETTINGS_STRENGTH.format(strength=f"{settings.strength:g}"),
            self.SETTINGS_PRESET_STRENGTH.format(percent=settings.preset_strength),
            self.SETTINGS_OWN_STYLE.format(mode=self.OWN_STYLE_MODE_NAMES[settings.own_style]),
            self.SETTINGS_KEEP_COLORS.format(answer=answer[settings.keep_colors]),
            self.SETTINGS_SEND_FILE.format(answer=answer[settings.send_file]),
        ])


def for_language(lang: str | None) -> Texts:
    return _BY_LANGUAGE.get(lang or "en", _BY_LANGUAGE["en"])


def pick_language(chosen: str | None, telegram_code: str | None) -> str:
    """The person's choice (/language), else their Telegram app's language when we speak it, else English."""
    if chosen in LANGUAGES:
        return chosen
    code = (telegram_code or "").lower().split("-")[0]
    return code if code in LANGUAGES else "en"


def names(module) -> dict[str, object]:
    """Every text of a language module: its upper-case str and dict names (LANGUAGES is not a text)."""
    return {k: v for k, v in vars(module).items()
            if k.isupper() and not k.startswith("_") and isinstance(v, (str, dict)) and k != "LANGUAGES"}


def format_fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


_BY_LANGUAGE = {lang: Texts(lang) for lang in LANGUAGES}
EN = _BY_LANGUAGE["en"]
