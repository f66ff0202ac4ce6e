"""Another process holding a SQLite file in an exclusive transaction (`BEGIN EXCLUSIVE`) for a while, as a
backup tool or a stuck second writer would: writes from everyone else wait, then fail with "database is locked"."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HOLDER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("COMMIT")
"""


def lock_sqlite(path: Path, seconds: float) -> subprocess.Popen:
    """Return once the other process holds the lock; it lets go after `seconds` and exits 0."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE,
                              text=True)
    if holder.stdout.readline().strip() != "locked":
        holder.kill()
        raise RuntimeError(f"could not lock {path}")
    return holder
