"""What the `stylebot` commands read: files named on the command line, and a preset by name, each refused in one
clear line (CliError) when it cannot be used."""
from __future__ import annotations

from pathlib import Path

from models.images import ImageError, decode_image


class CliError(Exception):
    pass


def read_input(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a folder, not an image file") from None
    except OSError as e:
        raise CliError(f"{path}: cannot read ({e.strerror})") from None


def decode_input(path: str, max_side: int):
    try:
        return decode_image(read_input(path), max_side=max_side)
    except ImageError as e:
        raise CliError(f"{path}: {e.message}") from None


def preset_runner(args, store, device):
    """(runner, style, caption) of `--style NAME`, refused in words when there is no such preset or it is
    unavailable."""
    from models import loading
    from models.catalogue import Catalogue

    catalogue = Catalogue.load()
    preset = catalogue.get(args.style)
    if preset is None:
        names = ", ".join(p.name for p in catalogue.presets)
        raise CliError(f"no style {args.style!r}; styles: {names} (or use --style-image)")
    status = catalogue.status(preset, store)
    if not status.available:
        raise CliError(f"style {args.style!r} is unavailable: {status.reason}")
    runner, style = loading.load_preset_runner(store, status, device)
    return runner, style, status.caption


