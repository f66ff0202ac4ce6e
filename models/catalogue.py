"""The style catalogue (configs/styles.yaml): the presets, and which of them the weights store can serve."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from models import paths
from models.weights_store import WeightsStore


@dataclass(frozen=True)
class WeightsChoice:
    weights: str   # a name in the weights manifest
    adapter: str   # a checkpoint adapter in models.cyclegan
    origin: str    # shown to people: where these weights come from
    style: int | None = None  # which of the network's styles, for a network that paints several


@dataclass(frozen=True)
class Preset:
    name: str
    label: str
    description: str
    choices: tuple[WeightsChoice, ...]
    group: str = "main"   # "main": the first keyboard page and "All styles"; "more": the "More styles" page


@dataclass(frozen=True)
class PresetStatus:
    preset: Preset
    choice: WeightsChoice | None   # the weights that serve it; None when unavailable
    reason: str                    # why it is unavailable, with the fix; "" when available

    @property
    def available(self) -> bool:
        return self.choice is not None

    @property
    def name(self) -> str:
        return self.preset.name

    @property
    def caption(self) -> str:
        """e.g. "Monet (official CycleGAN)"."""
        origin = f" ({self.choice.origin})" if self.choice else ""
        return f"{self.preset.label}{origin}"

    def as_dict(self) -> dict:
        p = self.preset
        return {"name": p.name, "label": p.label, "description": p.description, "available": self.available,
                "origin": self.choice.origin if self.choice else None, "caption": self.caption,
                "reason": self.reason or None, "group": p.group}


GROUPS = ("main", "more")


class CatalogueError(ValueError):
    pass


class Catalogue:
    def __init__(self, presets: list[Preset]):
        names = [p.name for p in presets]
        if len(set(names)) != len(names):
            raise CatalogueError(f"duplicate preset names in {names}")
        self.presets = presets
        self._by_name = {p.name: p for p in presets}

    @classmethod
    def load(cls, path: Path | None = None) -> Catalogue:
        path = path or paths.catalogue_path()
        with open(path, encoding="utf-8") as f:
            raw = yaml.safe_load(f) or {}
        presets = []
        for entry in raw.get("presets") or []:
            try:
                presets.append(Preset(
                    name=entry["name"], label=entry["label"], description=entry.get("description", ""),
                    choices=tuple(WeightsChoice(c["weights"], c["adapter"], c.get("origin", c["weights"]),
                                                c.get("style")) for c in entry["weights"]),
                    group=entry.get("group", "main")))
            except (KeyError, TypeError) as e:
                raise CatalogueError(f"{path}: bad preset entry {entry!r}: missing {e}") from None
            if presets[-1].group not in GROUPS:
                raise CatalogueError(f"{path}: preset {entry['name']!r}: group must be one of {', '.join(GROUPS)}")
        return cls(presets)

    def get(self, name: str) -> Preset | None:
        return self._by_name.get(name)

    def status(self, preset: Preset, store: WeightsStore) -> PresetStatus:
        reasons = []
        for choice in preset.choices:
            st = store.status(choice.weights)
            if st.present:
                return PresetStatus(preset, choice, "")
            reasons.append(f"{choice.origin} weights {st.reason} (fix: {st.fix})")
        return PresetStatus(preset, None, "; ".join(reasons) or "no weights listed")

    def statuses(self, store: WeightsStore) -> list[PresetStatus]:
        return [self.status(p, store) for p in self.presets]

    def available(self, store: WeightsStore) -> list[PresetStatus]:
        return [s for s in self.statuses(store) if s.available]
