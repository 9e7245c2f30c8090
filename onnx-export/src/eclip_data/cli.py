"""`eclip-data`: build the bundled dataset or the larger pretraining set, fit gaze statistics from
real scanpaths, convert fixation files (GazeSearch JSON or `image,x,y,duration_s` CSV) into heatmaps."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from eclip_data.dataset import DEFAULT_SIGMA_PX, FIXTURE_COUNTS, FIXTURE_TEST_HEATMAPS, build
from eclip_data.gaze import Fixations, GazeFormatError, fit_gaze_stats, read_fixation_csv, read_gazesearch
from eclip_data.heatmap import ScreenGeometry, fixation_heatmap, save_heatmap


def _counts(s: str) -> dict[str, int]:
    out = {}
    for part in s.split(","):
        k, _, v = part.partition("=")
        out[k.strip()] = int(v)
    return out


def _geometry(s: str) -> ScreenGeometry:
    vals = [float(v) for v in s.split(",")]
    if len(vals) != 4:
        raise argparse.ArgumentTypeError("expected SCREEN_W_PX,SCREEN_W_CM,DISTANCE_CM,IMAGE_W_ON_SCREEN_PX")
    return ScreenGeometry(*vals)


def _size(s: str) -> tuple[int, int]:
    w, _, h = s.partition("x")
    return int(w), int(h or w)


def _heatmaps(args: argparse.Namespace) -> dict[str, object]:
    src = Path(args.fixations)
    groups: dict[str, Fixations] = {}
    if src.suffix == ".json":
        for p in read_gazesearch(src):
            prev = groups.get(p.name)
            groups[p.name] = (
                p
                if prev is None
                else Fixations(
                    np.concatenate([prev.x, p.x]),
                    np.concatenate([prev.y, p.y]),
                    np.concatenate([prev.duration_s, p.duration_s]),
                    p.width,
                    p.height,
                    p.name,
                )
            )
    else:
        for image, rows in read_fixation_csv(src).items():
            a = np.asarray(rows, dtype=np.float64)
            if args.size is not None:
                w, h = args.size
            else:
                img_path = (Path(args.images_root) if args.images_root else src.parent) / image
                try:
                    with Image.open(img_path) as im:
                        w, h = im.size
                except OSError as e:
                    raise GazeFormatError(
                        f"{src}: image {image!r}: cannot open {img_path} to get its size "
                        f"({e}); pass --size WxH or --images-root"
                    ) from e
            groups[image] = Fixations(a[:, 0], a[:, 1], a[:, 2], w, h, image)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for name, fix in groups.items():
        w, h = args.size if args.size is not None else (fix.width, fix.height)
        sigma = args.sigma_px if args.sigma_deg is None else args.screen.sigma_px(args.sigma_deg, w)
        ext = ".npy" if args.format == "npy" else ".png"
        save_heatmap(
            fixation_heatmap(fix, w, h, sigma),
            out / (Path(name).stem + ext),
            bits=16 if args.format == "png16" else 8,
        )
        written += 1
    return {"heatmaps": written, "out": str(out)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="eclip-data", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build the bundled demo dataset (fixtures/data)")
    b.add_argument("--out", required=True)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--counts", type=_counts, default=FIXTURE_COUNTS, help="split=n,... (default %(default)s)")
    b.add_argument("--heatmap-fraction", type=float, default=0.1, help="fraction of train images with gaze")
    b.add_argument(
        "--test-heatmaps",
        type=int,
        default=FIXTURE_TEST_HEATMAPS,
        help="test images with gaze heatmaps, stratified by finding (default %(default)s)",
    )
    b.add_argument("--sigma-px", type=float, default=DEFAULT_SIGMA_PX)
    b.add_argument("--workers", type=int, default=1, help="processes; the output bytes do not depend on it")
    p = sub.add_parser(
        "pretrain", help="build the larger pretraining set (not stored; rebuilt from its seed)"
    )
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--n", type=int, default=20000, help="number of training pairs")
    p.add_argument("--heatmap-fraction", type=float, default=0.1)
    p.add_argument("--sigma-px", type=float, default=DEFAULT_SIGMA_PX)
    p.add_argument("--workers", type=int, default=1)
    f = sub.add_parser("fit-gaze", help="fit gaze statistics from a GazeSearch scanpath JSON")
    f.add_argument("--scanpaths", required=True)
    f.add_argument("--out", required=True, help="gaze_stats.json to write")
    h = sub.add_parser(
        "heatmap", help="fixations (GazeSearch .json or image,x,y,duration_s .csv) -> heatmaps"
    )
    h.add_argument("--fixations", required=True)
    h.add_argument("--out", required=True, help="folder; one heatmap per image, named after it")
    h.add_argument(
        "--size", type=_size, default=None, help="output WxH (default: the image's size; 224 for JSON)"
    )
    h.add_argument(
        "--images-root", default=None, help="where CSV image paths are relative to (default: CSV folder)"
    )
    h.add_argument("--sigma-px", type=float, default=DEFAULT_SIGMA_PX)
    h.add_argument(
        "--sigma-deg", type=float, default=None, help="sigma in degrees of visual angle (needs --screen)"
    )
    h.add_argument(
        "--screen",
        type=_geometry,
        default=None,
        help="SCREEN_W_PX,SCREEN_W_CM,DISTANCE_CM,IMAGE_W_ON_SCREEN_PX",
    )
    h.add_argument("--format", choices=["png8", "png16", "npy"], default="png8")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "build":
            summary = build(
                args.out,
                args.seed,
                args.counts,
                args.heatmap_fraction,
                sigma_px=args.sigma_px,
                workers=args.workers,
                test_heatmaps=args.test_heatmaps,
            )
        elif args.cmd == "pretrain":
            counts = {"pretrain": args.n, "pretrain_val": max(args.n // 20, 1)}
            summary = build(
                args.out,
                args.seed,
                counts,
                args.heatmap_fraction,
                sigma_px=args.sigma_px,
                workers=args.workers,
                name="cxr-pretrain",
            )
        elif args.cmd == "fit-gaze":
            stats = fit_gaze_stats(read_gazesearch(args.scanpaths))
            Path(args.out).write_text(json.dumps(stats, indent=1) + "\n", encoding="utf-8")
            summary = {
                k: {
                    kk: v[kk]
                    for kk in ("n_scanpaths", "count_mean", "near_target_fraction", "near_target_sigma")
                }
                for k, v in stats["findings"].items()
            }
        else:
            if args.sigma_deg is not None and args.screen is None:
                ap.error("--sigma-deg needs --screen")
            summary = _heatmaps(args)
    except (GazeFormatError, ValueError, OSError) as e:
        print(f"eclip-data {args.cmd}: error: {e}", file=sys.stderr)
        return 1
    json.dump(summary, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
