"""`stylebot make-style`: a fixed style for the catalogue, made once from one artwork or an artist's collection
(the arbitrary network's style vector: one artwork's, or the mean or medoid of several), written as the JSON
document the weights manifest lists, with the manifest lines to paste."""
from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


class MakeStyleError(Exception):
    pass


def artworks(paths: list[str]) -> list[Path]:
    """The image files named, folders expanded (sorted), or MakeStyleError naming what is missing."""
    files = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.is_file():
            files.append(p)
        else:
            raise MakeStyleError(f"{p}: no such file or folder")
    if not files:
        raise MakeStyleError("no artwork images found in " + ", ".join(paths))
    return files


def cmd_make_style(args) -> int:
    import torch

    from models import loading
    from models.arbitrary.fixed import collection_vector, vector_document
    from models.images import ImageError, decode_image
    from models.limits import MAX_SIDE
    from models.tensors import to_tensor
    from models.weights_store import WeightsStore

    files = artworks(args.artworks)
    stylizer = loading.load_fast(WeightsStore())
    vectors = []
    for f in files:
        try:
            vectors.append(stylizer.style_vector(to_tensor(decode_image(f.read_bytes(), max_side=MAX_SIDE))))
        except ImageError as e:
            raise MakeStyleError(f"{f}: {e.message}") from None
    vector, medoid = collection_vector(torch.stack(vectors), args.method)
    used = [files[medoid].name] if medoid is not None else [f.name for f in files]
    data = vector_document(vector, {"method": args.method if len(files) > 1 else "style image",
                                    "paintings": used, "network": "fast_transform", "predictor": "fast_predict"})
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.part-{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(out)
    print(f"saved {out} ({args.method} of {len(files)} artwork(s))" if len(files) > 1 else f"saved {out}")
    print(f"weights/manifest.yaml:\n  style_{out.stem}:\n    file: styles/{out.name}\n"
          f"    sha256: {hashlib.sha256(data).hexdigest()}\n    size: {len(data)}\n"
          f"    sources:\n      - repo: weights/styles/{out.name}")
    print(f"configs/styles.yaml, the preset's weights:\n      - {{weights: fast_transform, adapter: arbitrary, "
          f"style: style_{out.stem}, origin: ...}}")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("make-style", help="make a fixed style (a preset on the arbitrary network) from artworks")
    p.add_argument("artworks", nargs="+", metavar="ART", help="artwork images, or folders of them")
    p.add_argument("-o", "--output", required=True, metavar="JSON", help="e.g. weights/styles/NAME.json")
    p.add_argument("--method", choices=("mean", "medoid"), default="mean",
                   help="for several artworks: the mean of their style vectors (default) or the medoid's")
    p.set_defaults(func=cmd_make_style)
