"""Where the project's files live. Everything can be moved with an environment variable."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def weights_dir() -> Path:
    return Path(os.environ.get("STYLEBOT_WEIGHTS_DIR") or PROJECT_ROOT / "weights")


def weights_mirror() -> Path | None:
    mirror = os.environ.get("STYLEBOT_WEIGHTS_MIRROR")
    return Path(mirror) if mirror else None


def manifest_path() -> Path:
    return Path(os.environ.get("STYLEBOT_WEIGHTS_MANIFEST") or PROJECT_ROOT / "weights" / "manifest.yaml")


def sample_photo_path() -> Path:
    """The photo every style is shown on in the styles contact sheet (Kodak 23, free to redistribute)."""
    return PROJECT_ROOT / "configs" / "sample_photo.jpg"


def catalogue_path() -> Path:
    return Path(os.environ.get("STYLEBOT_STYLES") or PROJECT_ROOT / "configs" / "styles.yaml")
