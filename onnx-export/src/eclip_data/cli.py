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
from eclip_data.real_gaze import mimic_gaze_join, read_egd_fixations, read_reflacx
from eclip_data.recipes import (
    MIMIC_SECTIONS,
    MIMIC_SPLITS,
    RECIPES,
    UNCERTAIN_POLICIES,
    RecipeError,
    write_dataset,
)


def _add_recipes(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser(
        "recipe", help="official metadata of a public dataset -> workbench dataset (docs/recipes.md)"
    )
    rs = r.add_subparsers(dest="recipe", required=True)

    def common(name: str, help_: str) -> argparse.ArgumentParser:
        p = rs.add_parser(name, help=help_)
        p.add_argument("--out", required=True, type=Path, help="dataset folder to write")
        p.add_argument("--seed", type=int, default=0)
        p.add_argument(
            "--no-check-images",
            dest="check_images",
            action="store_false",
            help="do not require the image files (metadata-only build, e.g. to compute the split list)",
        )
        return p

    p = common("chexpert-5x200", "CheXpert train/valid CSV -> 5 classes x N single-positive frontal images")
    p.add_argument("--csv", required=True, type=Path, action="append", help="train.csv (and/or valid.csv)")
    p.add_argument("--root", required=True, type=Path, help="folder the CSV's Path column is relative to")
    p.add_argument("--per-class", type=int, default=200)
    p.add_argument("--uncertain", choices=UNCERTAIN_POLICIES, default="exclude")
    p = common("mimic-5x200", "MIMIC-CXR-JPG chexpert/negbio + metadata + split CSVs -> 5 x N")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--chexpert", type=Path, help="mimic-cxr-2.0.0-chexpert.csv")
    g.add_argument("--negbio", type=Path, help="mimic-cxr-2.0.0-negbio.csv")
    p.add_argument("--metadata", required=True, type=Path, help="mimic-cxr-2.0.0-metadata.csv")
    p.add_argument("--split", required=True, type=Path, help="mimic-cxr-2.0.0-split.csv")
    p.add_argument("--root", required=True, type=Path, help="MIMIC-CXR-JPG folder holding files/")
    p.add_argument("--reports-root", required=True, type=Path, help="MIMIC-CXR reports folder holding files/")
    p.add_argument("--section", choices=MIMIC_SECTIONS, default="findings")
    p.add_argument("--from-split", choices=MIMIC_SPLITS, default="test")
    p.add_argument("--per-class", type=int, default=200)
    p.add_argument("--uncertain", choices=UNCERTAIN_POLICIES, default="exclude")
    p = common("rsna-pneumonia", "RSNA stage_2_train_labels.csv -> pneumonia vs normal")
    p.add_argument("--labels", required=True, type=Path, help="stage_2_train_labels.csv")
    p.add_argument("--detailed-class-info", type=Path, default=None, help="stage_2_detailed_class_info.csv")
    p.add_argument("--root", required=True, type=Path, help="stage_2_train_images/ (<patientId>.dcm)")
    p.add_argument("--per-class", type=int, default=None, help="balanced sample (default: all images)")
    p = common("cxr14", "NIH Data_Entry_2017(_v2020).csv + test_list.txt -> multi-label test + 14 x N")
    p.add_argument("--data-entry", required=True, type=Path)
    p.add_argument("--test-list", required=True, type=Path)
    p.add_argument("--root", required=True, type=Path, help="folder holding the PNGs (any depth)")
    p.add_argument("--per-class", type=int, default=100)
    p.add_argument("--sample-from", choices=["test", "all"], default="test", help="pool of the 14 x N sample")
    p = common("open-i", "IU X-ray XML reports + PNGs -> frontal image/findings pairs + gallery")
    p.add_argument("--reports", required=True, type=Path, help="NLMCXR_reports.tgz or its XML folder")
    p.add_argument("--images", required=True, type=Path, help="NLMCXR_png/ (<image id>.png)")
    p.add_argument(
        "--views", required=True, type=Path, help="CSV with imageid and View Position (DICOM headers)"
    )
    p.add_argument("--missing-view", choices=["error", "skip"], default="error")
    p = common("siim-pneumothorax", "SIIM-ACR train-rle.csv / stage_2_train.csv -> pneumothorax vs normal")
    p.add_argument("--rle", required=True, type=Path)
    p.add_argument("--root", required=True, type=Path, help="folder holding the DICOMs (any depth)")
    p.add_argument("--per-class", type=int, default=None, help="balanced sample (default: all images)")


def _add_gaze_join(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser(
        "gaze-join",
        help="EGD-CXR / REFLACX fixations + MIMIC-CXR-JPG -> dataset with heatmaps (docs/recipes.md)",
    )
    src = g.add_mutually_exclusive_group(required=True)
    src.add_argument("--egd", type=Path, help="EGD-CXR fixations.csv")
    src.add_argument("--reflacx-main-data", type=Path, help="REFLACX main_data/ (holding <id>/fixations.csv)")
    g.add_argument(
        "--reflacx-metadata",
        type=Path,
        action="append",
        default=[],
        help="metadata_phase_N.csv (repeatable; default: all in --reflacx-main-data)",
    )
    g.add_argument("--mimic-metadata", required=True, type=Path, help="mimic-cxr-2.0.0-metadata.csv")
    g.add_argument("--root", required=True, type=Path, help="MIMIC-CXR-JPG folder holding files/")
    g.add_argument("--reports-root", required=True, type=Path, help="MIMIC-CXR reports folder holding files/")
    g.add_argument("--section", choices=MIMIC_SECTIONS, default="findings")
    g.add_argument("--split", type=Path, default=None, help="mimic-cxr-2.0.0-split.csv (default: all train)")
    g.add_argument("--labels", type=Path, default=None, help="mimic-cxr-2.0.0-chexpert.csv or -negbio.csv")
    g.add_argument("--uncertain", choices=["zeros", "ones"], default="zeros")
    g.add_argument("--sigma-px", type=float, default=None, help="sigma in image pixels (EGD-CXR)")
    g.add_argument("--sigma-deg", type=float, default=1.0, help="sigma in degrees (REFLACX; default 1)")
    g.add_argument("--format", choices=["png8", "png16", "npy"], default="png8")
    g.add_argument("--out", required=True, type=Path)


def _gaze_join(a: argparse.Namespace) -> dict[str, object]:
    if a.egd is not None:
        gaze = read_egd_fixations(a.egd)
        if a.sigma_px is None:
            raise RecipeError("EGD-CXR fixations carry no angular resolution: pass --sigma-px")
    else:
        metas = a.reflacx_metadata or sorted(a.reflacx_main_data.glob("metadata_phase_*.csv"))
        if not metas:
            raise RecipeError(f"{a.reflacx_main_data}: no metadata_phase_*.csv; pass --reflacx-metadata")
        gaze = read_reflacx(a.reflacx_main_data, metas)
    return mimic_gaze_join(
        gaze,
        a.mimic_metadata,
        a.root,
        a.reports_root,
        a.out,
        a.section,
        a.split,
        a.labels,
        a.uncertain,
        a.sigma_px if a.egd is not None else None,
        a.sigma_deg,
        a.format,
    )


def _recipe(args: argparse.Namespace) -> dict[str, object]:
    a = vars(args)
    name = a["recipe"]
    seed, check = a["seed"], a["check_images"]
    if name == "chexpert-5x200":
        rec, items = RECIPES[name](a["csv"], a["root"], seed, a["per_class"], a["uncertain"], check)
        inputs = list(a["csv"])
    elif name == "mimic-5x200":
        labels = a["chexpert"] or a["negbio"]
        rec, items = RECIPES[name](
            labels,
            a["metadata"],
            a["split"],
            a["root"],
            a["reports_root"],
            seed,
            a["per_class"],
            a["uncertain"],
            a["section"],
            a["from_split"],
            check,
        )
        inputs = [labels, a["metadata"], a["split"]]
    elif name == "rsna-pneumonia":
        rec, items = RECIPES[name](
            a["labels"], a["root"], a["detailed_class_info"], seed, a["per_class"], check
        )
        inputs = [a["labels"], *([a["detailed_class_info"]] if a["detailed_class_info"] else [])]
    elif name == "cxr14":
        rec, items = RECIPES[name](
            a["data_entry"], a["test_list"], a["root"], seed, a["per_class"], check, a["sample_from"]
        )
        inputs = [a["data_entry"], a["test_list"]]
    elif name == "open-i":
        rec, items = RECIPES[name](a["reports"], a["images"], a["views"], check, a["missing_view"])
        inputs = [a["reports"], a["views"]]
    else:
        rec, items = RECIPES[name](a["rle"], a["root"], seed, a["per_class"], check)
        inputs = [a["rle"]]
    summary = write_dataset(a["out"], rec, items, seed, inputs)
    print(f"split list {a['out'] / 'split_list.txt'} sha256 {summary['split_list_sha256']}", file=sys.stderr)
    return summary


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
    _add_recipes(sub)
    _add_gaze_join(sub)
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
        elif args.cmd == "recipe":
            summary = _recipe(args)
        elif args.cmd == "gaze-join":
            summary = _gaze_join(args)
        else:
            if args.sigma_deg is not None and args.screen is None:
                ap.error("--sigma-deg needs --screen")
            summary = _heatmaps(args)
    except (GazeFormatError, RecipeError, ValueError, OSError) as e:
        print(f"eclip-data {args.cmd}: error: {e}", file=sys.stderr)
        return 1
    json.dump(summary, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
