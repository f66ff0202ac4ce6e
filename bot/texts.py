"""Everything the bot says. Plain text with HTML markup where noted (aiogram default parse mode is HTML)."""
from __future__ import annotations

from html import escape

from bot.limits import TELEGRAM_DOWNLOAD_BYTES

MAX_DOWNLOAD_MB = TELEGRAM_DOWNLOAD_BYTES // (1024 * 1024)


def start(first_name: str | None) -> str:
    name = escape(first_name or "there")
    return (f"Hi, {name}! I turn photos into paintings.\n\n"
            "Send me a photo (as a photo or as a file) and pick a style: one of my painters, "
            "all of them at once, or a painting of your own.")


HELP = (
    "<b>How it works</b>\n"
    "1. Send a photo (compressed, or as a file: JPEG, PNG, WebP).\n"
    "2. Tap a style: a painter (a few seconds), <i>All styles</i> (one album), or <i>My own style image</i> "
    "and then send any painting: I repaint your photo in its style (a quick version in seconds, the full "
    "painting in a minute or more; you see it progress).\n\n"
    "/styles - the painters I know\n"
    "/settings - quality, style strength, preset strength, quick or full own-style paintings, keep colours, "
    "full-size file\n"
    "/cancel - stop what I am doing\n"
    "Shortcuts: a photo captioned /style becomes the style image; /nst paints your last photo in it; "
    "/gan paints your last photo in every style."
)

ASK_PHOTO = "Send me a photo first (as a photo or as an image file)."
CHOOSE_STYLE = "Nice photo! Pick a style:"
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
STYLES_SHEET = "Every style on one photo"
STYLE_GONE = "That style is not available any more. Pick another one:"
OLD_BUTTON = "That button belongs to an older photo. Send the photo again."

NOT_AN_IMAGE = "That's not an image I can paint. Send a photo, or a JPEG, PNG or WebP file."
STICKER = "Stickers can't be painted. Send a photo, or a JPEG, PNG or WebP file."
TEXT_WHEN_IMAGE_EXPECTED = "I need a picture, not text. Send a photo (or /help)."
TEXT_WHEN_STYLE_EXPECTED = "I'm waiting for the style image: send a painting as a photo or file, or /cancel."
FILE_TOO_BIG = (f"That file is over {MAX_DOWNLOAD_MB} MB, the most a Telegram bot may download. "
                "Send it as a photo (Telegram compresses it) or a smaller file.")
BUSY = "I'm busy painting for others right now. Try again in about {seconds} seconds."
FAILED = "Sorry, something went wrong while painting. Try again, or pick another style."
UNAVAILABLE = "Painting with your own style image is unavailable right now. Try a preset style."
DOWNLOAD_FAILED = "I couldn't download that file from Telegram. Send it again, please."
NST_NOT_TRANSFERRED = ("That style didn't take on your photo: the result still looked like the photo, so I "
                       "didn't send it. Tap Try again for a fresh attempt, or pick a preset style.")
TRY_AGAIN = "Try again"
SLOW_DOWN = ("Whoa, that's a lot at once! I'm skipping messages for a few seconds. Send one photo, wait for "
             "the styles, then pick one.")
TAP_FAILED = "Sorry, that button didn't work. Send /start to begin again."
DELIVERY_FAILED = ("Your picture was ready, but Telegram wouldn't take it from me ({reason}). Pick the style "
                   "again, or send the photo again.")
NST_RETRYING = "Trying again from a different start..."
INTERRUPTED_RESTARTING = "The painter restarted while working on your picture; starting it again..."
INTERRUPTED = ("The painting service restarted while working on your picture, twice. Try again in a minute: "
               "pick the style again (your photo is still here).")


def bad_image(message: str) -> str:
    return f"{message} Send another photo."


def nst_progress(step: int, total: int) -> str:
    percent = min(99, int(100 * step / max(total, 1)))
    return NST_PROGRESS.format(percent=percent, step=step, total=total)


def styles_list(styles: list[dict]) -> str:
    lines = []
    for group, header in (("main", STYLES_HEADER), ("more", MORE_STYLES_HEADER)):
        shown = [s for s in styles if s.get("available") and s.get("group", "main") == group]
        if shown:
            lines += [("\n" if lines else "") + header]
            lines += [f"• <b>{escape(s['label'])}</b>: {escape(s.get('description') or '')}" for s in shown]
    if not lines:
        return NO_STYLES
    return "\n".join(lines) + "\n\nSend a photo to use them."


def settings_summary(settings) -> str:
    return ("<b>Settings</b>\n"
            f"Quality: {settings.quality} (bigger is slower)\n"
            f"Style strength (own style images): {settings.strength:g}x\n"
            f"Preset strength (how much painting over your photo): {settings.preset_strength}%\n"
            f"Own style images: {OWN_STYLE_MODE_NAMES[settings.own_style]}\n"
            f"Keep my photo's colours: {'yes' if settings.keep_colors else 'no'}\n"
            f"Also send the full-resolution file: {'yes' if settings.send_file else 'no'}")
