"""The `stylebot` command: stylise images locally, list styles, manage weights.

    stylebot stylize PHOTO --style NAME -o OUT.jpg
    stylebot stylize PHOTO --style-image ART -o OUT.png [--size PX --steps N --strength X --keep-colors --seed N]
    stylebot stylize PHOTO --style-image ART --fast -o OUT.jpg [--size PX --strength X --keep-colors]
    stylebot stylize CLIP --style NAME -o OUT.mp4   (or --style-image ART --fast; a GIF, MP4, MOV or WebM clip)
    stylebot make-style ART [ART ...] -o weights/styles/NAME.json [--method mean|medoid]
    stylebot styles
    stylebot weights list | fetch [NAME ...]
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from models.images import encode_image, format_for_path
from models.limits import FULL, FULL_DECODE_SIDE, MAX_SIDE
from serve_app import make_style
from serve_app.cli_inputs import CliError, decode_input as _decode, preset_runner, read_input as _read
from serve_app.video_cli import cmd_stylize_video, wants_video

EXIT_ERROR = 1
EXIT_CANCELLED = 130


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _size(text: str) -> int | str:
    """--size: a whole number of pixels, or "full" (the photo's own size)."""
    return FULL if text.strip().lower() == FULL else _positive_int(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} must be between 0 and 100")
    return value


def cmd_stylize(args) -> int:
    from models.device import pick_device
    from models.tensors import to_pil
    from models.weights_store import WeightsStore

    if args.fast and args.style:
        raise CliError("--fast goes with --style-image (a preset is already one pass)")
    if wants_video(args):
        print(cmd_stylize_video(args, WeightsStore(), pick_device(args.device)))
        return 0
    try:
        fmt = format_for_path(args.output)
    except ValueError as e:
        raise CliError(str(e)) from None
    device = pick_device(args.device)
    store = WeightsStore()
    started = time.monotonic()
    paint = _stylize_preset if args.style else _stylize_fast if args.fast else _stylize_nst
    result, what = paint(args, store, device)
    out = Path(args.output)
    if out.parent and not out.parent.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(result) if isinstance(result, np.ndarray) else to_pil(result)
    out.write_bytes(encode_image(image, fmt))
    w, h = image.size
    print(f"wrote {out} ({w}x{h}, {what}, {time.monotonic() - started:.1f}s on {device})")
    return 0


def _stylize_preset(args, store, device):
    """`stylize --style NAME`: the painting and what painted it."""
    from models.cyclegan.finishing import finished
    from models.tensors import to_tensor

    strength = 1.0 if args.strength is None else args.strength
    if strength > 1:
        raise CliError(f"--strength for a preset is between 0 (the photo) and 1 (the full painting), "
                       f"not {strength:g}")
    runner, style, caption = preset_runner(args, store, device)
    if args.size == FULL:
        photo = np.asarray(_decode(args.photo, FULL_DECODE_SIDE))
        return _paint_full(photo, runner.net, runner.for_style(style), strength, args.keep_colors), caption
    photo = to_tensor(_decode(args.photo, args.size or 768))
    return finished(runner.for_style(style), strength, args.keep_colors)(photo), caption


def _paint_full(photo: np.ndarray, net, paint, strength: float, keep_colors: bool) -> np.ndarray:
    """The (H, W, 3) uint8 photo painted at its own size, tile by tile, finished per tile, with a progress bar."""
    from models.cyclegan.finishing import finished
    from models.fullres import FullResPainter
    from serve_app.progress import ProgressBar

    bar = ProgressBar("tiles")
    try:
        return FullResPainter(finished(paint, strength, keep_colors), net, reach_of=paint)(photo, on_tile=bar.update)
    finally:
        bar.close()


def _stylize_fast(args, store, device):
    """`stylize --style-image ART --fast`: the fast arbitrary-style model, one pass."""
    from models import loading
    from models.cyclegan.finishing import finish
    from models.fullres import THUMB_SIDE, thumbnail
    from models.tensors import to_tensor

    if args.steps is not None:
        raise CliError("--steps is for the Gatys optimiser; the fast model paints in one pass (drop --fast "
                       "to optimise)")
    strength = 1.0 if args.strength is None else args.strength
    if strength > 1:
        raise CliError(f"--strength with --fast is between 0 (the photo's own style) and 1 (the style "
                       f"image's, default), not {strength:g}")
    art = to_tensor(_decode(args.style_image, MAX_SIDE))
    model = loading.load_fast(store, device)
    what = f"the style of {Path(args.style_image).name}, fast"
    if args.size == FULL:
        photo = np.asarray(_decode(args.photo, FULL_DECODE_SIDE))
        vector = model.mixed_vector(model.style_vector(art), lambda: thumbnail(photo, THUMB_SIDE), strength)
        return _paint_full(photo, model.transformer.net, model.transformer.for_style(vector), 1.0,
                           args.keep_colors), what
    photo = to_tensor(_decode(args.photo, args.size or 768))
    result = model.paint(photo, model.style_vector(art), strength)
    return finish(photo, result, 1.0, args.keep_colors), what


def _stylize_nst(args, store, device):
    """`stylize --style-image ART`: the Gatys optimiser, with a progress bar."""
    from models import loading
    from models.nst import Cancelled, NSTOptions, StyleNotTransferred
    from models.tensors import to_tensor
    from serve_app.progress import ProgressBar

    working = NSTOptions.size if args.size in (None, FULL) else args.size
    options = NSTOptions(size=working, steps=args.steps or NSTOptions.steps,
                         strength=NSTOptions.strength if args.strength is None else args.strength,
                         keep_colors=args.keep_colors, seed=args.seed)
    try:
        options.validate()
    except ValueError as e:
        raise CliError(str(e)) from None
    photo = to_tensor(_decode(args.photo, max(options.size, MAX_SIDE)))
    art = to_tensor(_decode(args.style_image, MAX_SIDE))
    nst = loading.load_nst(store, device)
    bar = ProgressBar("painting")
    try:
        result = nst.run(photo, art, options, progress=bar.update).image
    except KeyboardInterrupt:
        raise Cancelled() from None
    except ValueError as e:  # e.g. an image too long and narrow for the asked size
        raise CliError(str(e)) from None
    except StyleNotTransferred as e:
        raise CliError(f"nothing written: {e}. Try --seed 1 (another start), more --steps or a higher "
                       "--strength, or another style image") from None
    finally:
        bar.close()
    if args.size == FULL:
        return _nst_at_full_size(args.photo, result, art, store, device, args.keep_colors), \
            f"the style of {Path(args.style_image).name}, painted at {working} px, with full-size detail"
    return result, f"the style of {Path(args.style_image).name}"


def _nst_at_full_size(path: str, result, art, store, device, keep_colors: bool) -> np.ndarray:
    """The NST result at the photo's own size: its picture up to its scale, the fast model's full-size painting of
    the photo in the style image's style above it (models/fullres/enlarge.py)."""
    from models import loading
    from models.fullres.enlarge import with_painted_detail
    from models.tensors import to_array, to_pil

    photo = np.asarray(_decode(path, FULL_DECODE_SIDE))
    fast = loading.load_fast(store, device)
    paint = fast.transformer.for_style(fast.style_vector(art))
    painted = _paint_full(photo, fast.transformer.net, paint, 1.0, keep_colors)
    return with_painted_detail(to_array(to_pil(result)), painted)


def cmd_styles(args) -> int:
    from models.catalogue import Catalogue
    from models.weights_store import WeightsStore

    store = WeightsStore()
    for st in Catalogue.load().statuses(store):
        state = f"available ({st.choice.origin})" if st.available else "unavailable"
        print(f"{st.name:<10} {st.preset.label:<16} {state}")
        print(f"{'':<10} {st.preset.description}")
        if not st.available:
            print(f"{'':<10} why: {st.reason}")
    return 0


def cmd_weights_list(args) -> int:
    from models.weights_store import WeightsStore

    store = WeightsStore()
    print(f"weights folder: {store.root}" + (f" (mirror: {store.mirror})" if store.mirror else ""))
    for st in store.statuses():
        if st.present:
            print(f"{st.name:<10} present  {st.path.name}")
        else:
            print(f"{st.name:<10} missing  {st.path.name}: {st.reason}. Fix: {st.fix}")
    return 0


def cmd_weights_fetch(args) -> int:
    from models.weights_store import WeightsError, WeightsStore

    store = WeightsStore()
    names = args.names or list(store.manifest)
    failed = []
    for name in names:
        try:
            spec = store.spec(name)
            path = store.fetch(name, log=lambda m: print(m, flush=True))
            print(f"{name}: ok ({path})")
        except WeightsError as e:
            optional = not args.names and spec.optional
            print(f"{name}: {'skipped' if optional else 'FAILED'}: {e}", file=sys.stderr)
            if not optional:
                failed.append(name)
    if failed:
        print(f"could not fetch: {', '.join(failed)}", file=sys.stderr)
        return EXIT_ERROR
    return 0


def cmd_train_preset(args) -> int:
    from models.cyclegan.training import Trainer, TrainConfig, list_images
    from models.device import pick_device
    from models.weights_store import WeightsStore

    try:
        photos, paintings = list_images(Path(args.photos)), list_images(Path(args.paintings))
    except FileNotFoundError as e:
        raise CliError(str(e)) from None
    config = TrainConfig(name=args.name, steps=args.steps, batch_size=args.batch_size, crop=args.crop,
                         lr=args.lr, ngf=args.width, n_blocks=args.blocks, decoder=args.decoder, style_weight=args.style_weight,
                         content_weight=args.content_weight, tv_weight=args.tv_weight, style_side=args.style_side,
                         checkpoint_every=args.checkpoint_every, log_every=args.log_every, seed=args.seed,
                         time_limit=args.time_limit * 60 if args.time_limit else None)
    device = pick_device(args.device)
    trainer = Trainer(config, WeightsStore().load_state_dict("vgg19"), photos, paintings, device,
                      log=lambda m: print(m, flush=True))
    print(f"training {args.name} on {device}: {len(trainer.train_photos)} photos ({len(trainer.eval_photos)} held "
          f"out), {len(paintings)} paintings", flush=True)
    out = Path(args.out)
    resume = out / f"{args.name}-resume.pt"
    if args.resume and resume.exists():
        trainer.resume(resume)
        print(f"resumed at step {trainer.step}", flush=True)
    elif args.start_from:
        try:
            trainer.start_from(Path(args.start_from))
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise CliError(f"cannot start from {args.start_from}: {e}") from None
        print(f"starting from the weights of {args.start_from}", flush=True)
    trainer.fit(out)
    return 0


def cmd_redecode_preset(args) -> int:
    import pickle

    import torch

    from models.cyclegan.checkpoints import CheckpointError, load_generator
    from models.cyclegan.redecode import RedecodeConfig, Redecoder, redecoded_checkpoint
    from models.cyclegan.training import list_images

    try:
        photos = list_images(Path(args.photos))
        checkpoint = torch.load(args.preset, map_location="cpu", weights_only=True)
        teacher = load_generator(checkpoint, "stylebot")
    except (OSError, CheckpointError, RuntimeError, pickle.UnpicklingError) as e:
        raise CliError(f"cannot re-decode {args.preset}: {e}") from None
    config = RedecodeConfig(steps=args.steps, batch_size=args.batch_size, crop=args.crop, lr=args.lr,
                            blur_sigma=args.blur, sharp_weight=args.sharp_weight, seed=args.seed,
                            log_every=args.log_every)
    try:
        redecoder = Redecoder(teacher, photos, config, log=lambda m: print(m, flush=True))
    except ValueError as e:
        raise CliError(f"cannot re-decode {args.preset}: {e}") from None
    print(f"re-decoding {args.preset}: {len(redecoder.train_photos)} photos ({len(redecoder.eval_photos)} held out)",
          flush=True)
    student, record = redecoder.fit()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    torch.save(redecoded_checkpoint(checkpoint, student, record), tmp)
    tmp.replace(out)
    print(f"saved {out}", flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stylebot", description="Turn photos into paintings.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_stylize(sub)
    _add_train_preset(sub)
    _add_redecode_preset(sub)
    make_style.add_parser(sub)
    _add_small_commands(sub)
    return parser


def _add_stylize(sub) -> None:
    """`stylebot stylize`."""
    p = sub.add_parser("stylize", help="repaint a photo or a clip with a preset or your own style image")
    p.add_argument("photo", help="the photo (JPEG, PNG, WebP, BMP, GIF), or a clip (MP4, MOV, WebM, or a GIF "
                                 "with -o OUT.mp4)")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--style", metavar="NAME", help="a preset (see `stylebot styles`)")
    which.add_argument("--style-image", metavar="ART", help="a painting whose style to copy (Gatys NST)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="result file, .jpg or .png; .mp4 for a clip")
    p.add_argument("--size", type=_size, metavar="PX",
                   help="long side of the result (default: 768 for presets and --fast, 384 for NST); `full`: the "
                        "photo's own size (presets and --fast paint it tile by tile; NST paints at 384 px and brings "
                        "the result to it with a full-size painting's detail)")
    p.add_argument("--steps", type=_positive_int, metavar="N", help="NST evaluation budget (default 300)")
    p.add_argument("--strength", type=_non_negative_float, metavar="X",
                   help="presets: 0 (the photo) to 1 (the full painting, default); NST: style weight multiplier "
                        "(default 1.0)")
    p.add_argument("--keep-colors", action="store_true", help="keep the photo's colours")
    p.add_argument("--fast", action="store_true",
                   help="with --style-image: the fast arbitrary-style model, one pass (about a second) instead "
                        "of the Gatys optimiser; --strength 0 (the photo's own style) to 1 (default)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="NST random seed (default 0)")
    p.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto")
    p.set_defaults(func=cmd_stylize)


def _add_train_preset(sub) -> None:
    """`stylebot train-preset`."""
    p = sub.add_parser("train-preset", help="train a feed-forward preset on photos and an artist's paintings")
    p.add_argument("name", help="the preset's name, e.g. monet")
    p.add_argument("--paintings", required=True, metavar="DIR",
                   help="folder of the artist's paintings, or one image for a single-artwork preset")
    p.add_argument("--photos", required=True, metavar="DIR", help="folder of natural photos (a tenth held out)")
    p.add_argument("--out", default="var/train", metavar="DIR", help="checkpoints go here (default var/train)")
    p.add_argument("--steps", type=_positive_int, default=4000)
    p.add_argument("--batch-size", type=_positive_int, default=8)
    p.add_argument("--crop", type=_positive_int, default=256, help="training crop size in px")
    p.add_argument("--width", type=_positive_int, default=32, help="generator width (ngf)")
    p.add_argument("--blocks", type=_positive_int, default=9, help="residual blocks")
    p.add_argument("--decoder", choices=("bilinear", "upsample", "transpose"), default="bilinear",
                   help="bilinear (default) or nearest (upsample) upsample-then-convolve, or CycleGAN's transposed "
                        "convolutions (they paint a checkerboard)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--style-weight", type=float, default=2.0)
    p.add_argument("--tv-weight", type=float, default=5e3)
    p.add_argument("--style-side", type=_positive_int, metavar="PX",
                   help="paintings' long side when their Grams are taken (default 2 x crop)")
    p.add_argument("--content-weight", type=float, default=1.0)
    p.add_argument("--checkpoint-every", type=_positive_int, default=500)
    p.add_argument("--log-every", type=_positive_int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-limit", type=_positive_float, metavar="MINUTES",
                   help="stop early, with a final checkpoint, once this much time has passed")
    p.add_argument("--resume", action="store_true", help="continue from OUT/NAME-resume.pt when it exists")
    p.add_argument("--start-from", metavar="PTH", help="fine-tune a trained preset (.pth) with a fresh optimizer")
    p.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto")
    p.set_defaults(func=cmd_train_preset)


def _add_redecode_preset(sub) -> None:
    """`stylebot redecode-preset`."""
    p = sub.add_parser("redecode-preset", help="replace a trained preset's transposed-convolution decoder (it paints "
                                               "a checkerboard) with a bilinear one, by distillation")
    p.add_argument("preset", help="the trained preset (.pth, stylebot format, transpose decoder)")
    p.add_argument("--photos", required=True, metavar="DIR", help="folder of natural photos (a tenth held out)")
    p.add_argument("-o", "--output", required=True, metavar="PTH", help="the re-decoded preset")
    p.add_argument("--steps", type=_positive_int, default=300)
    p.add_argument("--batch-size", type=_positive_int, default=4)
    p.add_argument("--crop", type=_positive_int, default=256, help="training crop size in px")
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--blur", type=_positive_float, default=1.5, metavar="PX",
                   help="sigma of the blur both paintings are compared after (removes the 2-4 px checkerboard)")
    p.add_argument("--sharp-weight", type=_non_negative_float, default=0.5,
                   help="weight of an unblurred comparison as well (0: softer results)")
    p.add_argument("--log-every", type=_positive_int, default=25)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_redecode_preset)


def _add_small_commands(sub) -> None:
    """`stylebot styles` and `stylebot weights list | fetch`."""
    p = sub.add_parser("styles", help="list the presets and whether each is available")
    p.set_defaults(func=cmd_styles)

    p = sub.add_parser("weights", help="list or fetch weight files")
    wsub = p.add_subparsers(dest="weights_command", required=True, metavar="ACTION")
    wl = wsub.add_parser("list", help="show each weight file as present or missing, and why")
    wl.set_defaults(func=cmd_weights_list)
    wf = wsub.add_parser("fetch", help="fetch weight files (all when no NAME is given)")
    wf.add_argument("names", nargs="*", metavar="NAME")
    wf.set_defaults(func=cmd_weights_fetch)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from models.nst import Cancelled
    from models.catalogue import CatalogueError
    from models.weights_manifest import ManifestError
    from models.weights_store import WeightsError

    try:
        return args.func(args)
    except (CliError, make_style.MakeStyleError, WeightsError, CatalogueError, ManifestError, RuntimeError) as e:
        print(f"stylebot: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except Cancelled:
        print("stylebot: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except KeyboardInterrupt:
        print("\nstylebot: cancelled", file=sys.stderr)
        return EXIT_CANCELLED


if __name__ == "__main__":
    sys.exit(main())
