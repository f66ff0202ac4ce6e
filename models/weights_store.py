"""The weights store: which weight files are present and verified, fetching them, and loading them safely.

A file counts as present only when its sha256 matches the manifest (or, for weights without a published
checksum, the pin taken at its first verified download). Downloads are written to a temporary file in the
same folder and renamed into place after verification, so a half-written file never counts.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from models import paths
from models.weights_manifest import WeightSpec, load_manifest

PINS_FILE = "pins.json"
_HASH_CHUNK = 1 << 20


class WeightsError(Exception):
    """A weight file is missing, corrupt or unfetchable. The message names the file, the reason and the fix."""

    def __init__(self, name: str, path: Path | None, reason: str, fix: str):
        self.name, self.path, self.reason, self.fix = name, path, reason, fix
        where = f" ({path})" if path else ""
        super().__init__(f"weights {name!r}{where}: {reason}. Fix: {fix}")


@dataclass(frozen=True)
class WeightStatus:
    name: str
    present: bool
    path: Path
    reason: str  # why it is missing; "" when present
    spec: WeightSpec

    @property
    def fix(self) -> str:
        return f"stylebot weights fetch {self.name}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
    return h.hexdigest()


class WeightsStore:
    def __init__(self, root: Path | None = None, manifest: dict[str, WeightSpec] | None = None,
                 mirror: Path | None = None):
        self.root = Path(root) if root else paths.weights_dir()
        self.manifest = manifest if manifest is not None else load_manifest()
        self.mirror = mirror if mirror is not None else paths.weights_mirror()
        self._verified: dict[tuple[str, int, int], str] = {}
        self._lock = threading.Lock()

    # -- lookup -----------------------------------------------------------------------------------------
    def spec(self, name: str) -> WeightSpec:
        try:
            return self.manifest[name]
        except KeyError:
            known = ", ".join(sorted(self.manifest))
            raise WeightsError(name, None, "not in the weights manifest", f"use one of: {known}") from None

    def path(self, name: str) -> Path:
        return self.root / self.spec(name).file

    def expected_sha256(self, name: str) -> str | None:
        return self.spec(name).sha256 or self._pins().get(name)

    def _pins(self) -> dict[str, str]:
        try:
            return json.loads((self.root / PINS_FILE).read_text())
        except FileNotFoundError:
            return {}

    def _pin(self, name: str, sha: str) -> None:
        pins = self._pins()
        pins[name] = sha
        _atomic_write_bytes(self.root / PINS_FILE, (json.dumps(pins, indent=2, sort_keys=True) + "\n").encode())

    def _sha_cached(self, path: Path) -> str:
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        with self._lock:
            if key in self._verified:
                return self._verified[key]
        sha = sha256_file(path)
        with self._lock:
            self._verified[key] = sha
        return sha

    # -- status -----------------------------------------------------------------------------------------
    def status(self, name: str) -> WeightStatus:
        spec = self.spec(name)
        path = self.root / spec.file
        if not path.is_file():
            sources = ", ".join(s.describe() for s in spec.sources) or "no source"
            return WeightStatus(name, False, path, f"not downloaded (source: {sources})", spec)
        expected = self.expected_sha256(name)
        if expected is None:
            return WeightStatus(name, False, path, "file present but no checksum is pinned for it yet", spec)
        actual = self._sha_cached(path)
        if actual != expected:
            return WeightStatus(name, False, path,
                                f"corrupt: sha256 {actual[:12]}… does not match {expected[:12]}…", spec)
        return WeightStatus(name, True, path, "", spec)

    def statuses(self) -> list[WeightStatus]:
        return [self.status(n) for n in self.manifest]

    def verified_path(self, name: str) -> Path:
        st = self.status(name)
        if not st.present:
            raise WeightsError(name, st.path, st.reason, st.fix)
        return st.path

    def load_state_dict(self, name: str) -> dict:
        """Verify, then torch.load with weights_only=True (no pickled code runs)."""
        import torch

        path = self.verified_path(name)
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # a verified file that torch cannot read is still a broken weight
            raise WeightsError(name, path, f"cannot be loaded ({type(e).__name__}: {e})",
                               f"delete it and run stylebot weights fetch {name}") from e

    # -- fetch ------------------------------------------------------------------------------------------
    def fetch(self, name: str, log: Callable[[str], None] = lambda _: None) -> Path:
        """Fetch `name` from the mirror or its sources unless a verified copy is already present."""
        from models import weights_fetch

        st = self.status(name)
        if st.present:
            return st.path
        spec = st.spec
        st.path.parent.mkdir(parents=True, exist_ok=True)
        errors: list[str] = []
        for source in weights_fetch.sources_for(spec, self.mirror):
            tmp = st.path.parent / f".{st.path.name}.part-{os.getpid()}-{threading.get_ident()}"
            try:
                log(f"{name}: fetching from {source.describe()}")
                sha = source.fetch_to(spec, tmp)
                self._accept(spec, tmp, sha)
                os.replace(tmp, st.path)
                log(f"{name}: saved {st.path} (sha256 {sha[:12]}…)")
                return st.path
            except Exception as e:  # noqa: BLE001 - every failed source is reported, the next one is tried
                errors.append(f"{source.describe()}: {e}")
            finally:
                tmp.unlink(missing_ok=True)
        tried = "; ".join(errors) or "it has no sources"
        mirror_hint = (f"or put {spec.file} in a folder and set STYLEBOT_WEIGHTS_MIRROR to it"
                       if self.mirror is None else f"or put {spec.file} in {self.mirror}")
        raise WeightsError(name, st.path, f"could not be fetched ({tried})",
                           f"run stylebot weights fetch {name} where a source is reachable, {mirror_hint}")

    def _accept(self, spec: WeightSpec, tmp: Path, sha: str) -> None:
        if spec.size is not None and tmp.stat().st_size != spec.size:
            raise ValueError(f"size {tmp.stat().st_size} B, expected {spec.size} B")
        expected = spec.sha256 or self._pins().get(spec.name)
        if expected is not None:
            if sha != expected:
                raise ValueError(f"sha256 {sha} does not match {expected}")
            return
        # No published checksum: accept the file only if it is a loadable tensor dict, then pin it.
        import torch

        state = torch.load(tmp, map_location="cpu", weights_only=True)
        if not isinstance(state, dict) or not state:
            raise ValueError("not a state dict")
        self._pin(spec.name, sha)


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part-{os.getpid()}-{threading.get_ident()}")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
