"""Chat state, settings, jobs and seen updates: the records both state stores keep.

Only Telegram `file_id`s are stored: file URLs contain the bot token. Every job moves through
queued -> running -> delivering -> done, or ends cancelled / failed / closed / interrupted; the stores make each move
conditional and atomic, so a cancelled job can never reach `delivering` and nothing is delivered twice.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from models.limits import FULL

QUALITIES = {  # preset long side ("full": the photo's own, as Telegram sent it), NST long side, NST evaluation budget
    "fast": (512, 256, 150),
    "standard": (FULL, 384, 300),
    "best": (FULL, 512, 500),
}
STRENGTHS = (0.5, 1.0, 2.0)               # NST: a multiplier of the style weight
PRESET_STRENGTHS = (25, 50, 75, 100)       # presets: percent of the painting blended over the photo
OWN_STYLE_MODES = ("both", "quick", "full")  # own style image: the quick version then the full one, or one of them
ACTIVE = ("queued", "running", "delivering")
MAX_SAVED_STYLES = 12                # a chat's saved styles ("My styles")
UPDATE_RETENTION_S = 2 * 24 * 3600   # Telegram gives up retrying a webhook update long before this
JOB_RETENTION_S = 30 * 24 * 3600


@dataclass
class Settings:
    quality: str = "standard"
    strength: float = 1.0
    keep_colors: bool = False
    send_file: bool = False
    preset_strength: int = 100
    own_style: str = "both"
    language: str = ""                   # "en" or "ru" once chosen with /language; "" follows Telegram's

    @classmethod
    def from_json(cls, raw: str | None) -> "Settings":
        data = json.loads(raw or "{}")
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        s = cls(**known)
        if s.quality not in QUALITIES:
            s.quality = "standard"
        if s.preset_strength not in PRESET_STRENGTHS:
            s.preset_strength = 100
        if s.own_style not in OWN_STYLE_MODES:
            s.own_style = "both"
        return s

    @property
    def preset_side(self) -> int | str:
        return QUALITIES[self.quality][0]

    def preset_options(self) -> dict:
        return {"size": self.preset_side, "strength": self.preset_strength / 100, "keep_colors": self.keep_colors}

    def fast_options(self) -> dict:
        """The fast model's options: the quick version at the size the full painting will have (the result's
        size when it is the only one), its strength capped at the model's 1."""
        size = self.preset_side if self.own_style == "quick" else QUALITIES[self.quality][1]
        return {"size": size, "strength": min(self.strength, 1.0), "keep_colors": self.keep_colors}

    def saved_style_options(self) -> dict:
        """A saved style paints with the fast model at the presets' size, with the own-style strength."""
        return {"size": self.preset_side, "strength": min(self.strength, 1.0), "keep_colors": self.keep_colors}

    def nst_options(self) -> dict:
        _, side, steps = QUALITIES[self.quality]
        return {"size": side, "steps": steps, "strength": self.strength, "keep_colors": self.keep_colors}


@dataclass
class ContentInfo:
    """What the chat's photo is: sent as a file (uncompressed: painted and sent back at its own size) or as a
    compressed photo, and its size as the person sees it; or a clip, and how it came."""
    as_file: bool = False
    width: int = 0
    height: int = 0
    clip: str = ""          # a clip: how it came ("animation", "video", "video_note") and so how it goes back
    frames: int = 0         # a clip's frames

    @property
    def is_clip(self) -> bool:
        return bool(self.clip)

    @property
    def megapixels(self) -> float:
        return self.width * self.height / 1e6

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, raw: str | None) -> "ContentInfo":
        """A stored record; an unreadable or missing one (a chat from before it was kept) is an unknown photo."""
        try:
            data = json.loads(raw or "{}")
            return cls(bool(data.get("as_file", False)), int(data.get("width", 0)), int(data.get("height", 0)),
                       str(data.get("clip", "")), int(data.get("frames", 0)))
        except (ValueError, TypeError, AttributeError):
            return cls()


@dataclass
class ChatState:
    chat_id: int
    content_file_id: str | None = None
    style_file_id: str | None = None
    awaiting: str | None = None          # "style" after "My own style image"; "rename:N" (bot/my_styles.py)
    settings: Settings = field(default_factory=Settings)
    content: ContentInfo = field(default_factory=ContentInfo)


@dataclass
class SavedStyle:
    """One of a chat's own styles: the style vector of an image the person sent (never the image), and a name."""
    id: int
    chat_id: int
    name: str
    vector: list[float]
    created: float = 0.0


@dataclass
class Job:
    id: int
    chat_id: int
    kind: str                            # "preset", "all", "nst" (own style image) or "saved" (a saved style)
    preset: str | None
    content_file_id: str
    style_file_id: str | None
    options: dict
    status: str
    progress_message_id: int | None = None
    reason: str | None = None
    created: float = 0.0                 # time.time() when it was queued
