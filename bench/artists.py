"""Which artist an image's style is nearest, for any judge with `embed(img)`, `mean(embeddings)` and
`distance(a, b)`: an artist is the mean embedding (centroid) of their paintings, as in judge.ArtistJudge, whose
docstring says why a centroid and not the nearest single painting."""
from __future__ import annotations

from PIL import Image


class CentroidAttribution:
    def __init__(self, judge, paintings: dict[str, list[Image.Image]]):
        self.judge = judge
        self.embeddings = {a: [judge.embed(p) for p in imgs] for a, imgs in paintings.items()}
        self.centroids = {a: judge.mean(e) for a, e in self.embeddings.items()}

    def distances(self, embedding) -> dict[str, float]:
        return {a: self.judge.distance(embedding, c) for a, c in self.centroids.items()}

    def attribute(self, embedding) -> str:
        d = self.distances(embedding)
        return min(d, key=d.get)

    def leave_one_out(self) -> dict[str, float]:
        """Per artist, the share of their own paintings attributed to them with each left out of its centroid:
        the judge's ceiling, the most a preset can be expected to reach."""
        shares = {}
        for artist, embeddings in self.embeddings.items():
            hits = 0
            for i, e in enumerate(embeddings):
                centroids = dict(self.centroids)
                rest = embeddings[:i] + embeddings[i + 1:]
                if rest:
                    centroids[artist] = self.judge.mean(rest)
                d = {a: self.judge.distance(e, c) for a, c in centroids.items()}
                hits += min(d, key=d.get) == artist
            shares[artist] = hits / len(embeddings)
        return shares
