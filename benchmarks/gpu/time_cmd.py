"""Run one command, print one JSON line: wall time, peak RSS, and the images/s it reported itself.

`run_gpu.sh` uses it for `eclip embed`: the workbench prints its own image-phase throughput (decoding,
preprocessing and the image tower, without process start-up and the text tower); when that line is
missing the figure falls back to images / wall time of the whole process and says so.

    python benchmarks/gpu/time_cmd.py --label eclip-embed --images 4096 -- eclip embed ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from run import eclip_stats, run_measured


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--label", required=True)
    p.add_argument("--model", default="")
    p.add_argument("--batch", type=int, default=0)
    p.add_argument("--images", type=int, required=True, help="images the command embeds")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- command ...")
    a = p.parse_args(argv)
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    m = run_measured(cmd)
    stats = eclip_stats(m.output)
    rec = {
        "runner": a.label,
        "model": a.model,
        "batch": a.batch,
        "rc": m.rc,
        "wall_s": m.wall,
        "peak_rss_mib": m.rss_mib,
        "images": a.images,
    }
    if "images_per_s" in stats:
        rec["images_per_s"] = stats["images_per_s"]
        rec["ort_share_image_phase"] = stats["images_ort_s"] / stats["images_wall_s"]
        rec["rate_source"] = "reported by the command (image phase)"
    else:
        rec["images_per_s"] = a.images / m.wall
        rec["rate_source"] = "images / process wall time (includes start-up and the text tower)"
    if m.rc != 0:
        rec["error"] = m.output[-800:]
        print(m.output[-2000:], file=sys.stderr)
    print(json.dumps(rec), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
