"""The style catalogue (configs/styles.yaml): the presets, and which of them the weights store can serve."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from models import paths
from models.weights_store import WeightsStore


ENGINES = {"stylebot": "generator", "upstream": "generator", "vintagify": "generator",
           "multistyle": "multi-style", "arbitrary": "fixed style"}


@dataclass(frozen=True)
class WeightsChoice:
    """What paints a preset. `adapter` names the engine: a trained generator (stylebot, upstream, vintagify:
    models.cyclegan's checkpoint layouts), the 26-style network (multistyle: `style` is its index), or the
    arbitrary network with a fixed style (arbitrary: `weights` is its transformer, `style` the manifest name of
    the style vector, made once from an artwork or an artist's collection)."""
    weights: str   # a name in the weights manifest: the network
    adapter: str
    origin: str    # shown to people: where these weights come from
    style: int | str | None = None  # which of the network's styles, for a network that paints several

    @property
    def engine(self) -> str:
        return ENGINES.get(self.adapter, "generator")

    def needed_weights(self) -> tuple[str, ...]:
        """Every manifest entry this choice needs present: the network, and a fixed style's vector."""
        return (self.weights, self.style) if self.adapter == "arbitrary" else (self.weights,)


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
                "engine": self.choice.engine if self.choice else None, "reason": self.reason or None,
                "group": p.group}


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
            if any(c.adapter == "arbitrary" and not isinstance(c.style, str) for c in presets[-1].choices):
                raise CatalogueError(f"{path}: preset {entry['name']!r}: a fixed style (adapter arbitrary) needs "
                                     "`style`, the manifest name of its style vector")
        return cls(presets)

    def get(self, name: str) -> Preset | None:
        return self._by_name.get(name)

    def status(self, preset: Preset, store: WeightsStore) -> PresetStatus:
        reasons = []
        for choice in preset.choices:
            missing = [st for st in map(store.status, choice.needed_weights()) if not st.present]
            if not missing:
                return PresetStatus(preset, choice, "")
            reasons += [f"{choice.origin} weights {st.reason} (fix: {st.fix})" for st in missing]
        return PresetStatus(preset, None, "; ".join(reasons) or "no weights listed")

    def statuses(self, store: WeightsStore) -> list[PresetStatus]:
        return [self.status(p, store) for p in self.presets]

    def available(self, store: WeightsStore) -> list[PresetStatus]:
        return [s for s in self.statuses(store) if s.available]
