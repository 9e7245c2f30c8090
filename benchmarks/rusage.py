"""Launch one command and report its own wall time, CPU time and peak RSS as JSON.

    python -I -S benchmarks/rusage.py OUT.json CMD [ARGS...]

Why a launcher: on Linux a child's `ru_maxrss` (from `wait4`) starts from the RSS of the process that
forked it, because `execve` records the old (forked) address space's high-water mark. A benchmark
driver that has loaded numpy, onnxruntime or torch (hundreds of MiB to GiB) therefore reports at least
its own RSS for every child. This launcher is a fresh interpreter started with `-I -S` (about 10 MiB),
so the command it forks inherits only that floor: the peak RSS it reports is the command's own, to
within ~10 MiB. Standard library only; the command's stdout/stderr pass through unchanged; the
launcher exits with the command's exit code.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print("usage: rusage.py OUT.json CMD [ARGS...]", file=sys.stderr)
        return 64
    out, cmd = argv[1], argv[2:]
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child: become the command
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            print(f"rusage.py: cannot run {cmd[0]}: {e}", file=sys.stderr)
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(
            {
                "wall_s": wall,
                "cpu_s": usage.ru_utime + usage.ru_stime,
                "maxrss_mib": usage.ru_maxrss / 1024.0,
                "returncode": code,
            },
            f,
        )
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
