"""A one-line text progress bar for the terminal (stderr)."""
from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, label: str, stream=None, width: int = 30):
        # sys.stderr as it is now, not as it was at import (a caller may have replaced it since)
        self.label, self.stream, self.width = label, stream or sys.stderr, width
        self.start = time.monotonic()
        self.tty = self.stream.isatty()
        self._last_line = 0.0

    def update(self, step: int, total: int, loss: float | None = None) -> None:
        now = time.monotonic()
        if not self.tty and now - self._last_line < 5 and step < total:
            return  # in logs, one line every few seconds is plenty
        self._last_line = now
        done = int(self.width * step / max(total, 1))
        elapsed = now - self.start
        eta = elapsed / step * (total - step) if step else 0
        line = (f"{self.label} [{'#' * done}{'.' * (self.width - done)}] {step}/{total} "
                + ("" if loss is None else f"loss {loss:.4g} ") + f"{elapsed:.0f}s elapsed, <{eta:.0f}s left")
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
