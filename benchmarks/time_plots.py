"""Time ``gdnp plots`` as a user runs it: the full figure set and ``--quick``.

Each run is a fresh ``python -m gdnp plots --out TMP --jobs J`` process into an empty
temporary folder (wall clock, from start to exit), so the times include interpreter start-up,
imports and the worker pool. The record, with the machine's load and package versions, goes
to ``benchmarks/plots.json`` (written atomically); the README and ``benchmarks/RESULTS.md``
quote it, and a test keeps the README's numbers equal to it.

Run ``python benchmarks/time_plots.py [--jobs J] [--out FILE]`` on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def time_plots(quick: bool, jobs: int) -> dict:
    """Wall time of one ``gdnp plots`` process, and the per-figure compute seconds it wrote."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "gdnp", "plots", "--out", out, "--jobs", str(jobs),
               "--no-progress"] + (["--quick"] if quick else [])
        env = dict(os.environ, MPLBACKEND="Agg")
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        figures = {}
        for path in sorted(Path(out).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if "compute_seconds" in data:
                figures[path.stem] = round(float(data["compute_seconds"]), 2)
    return {"seconds": round(seconds, 1), "jobs": jobs, "figures": len(figures),
            "compute_seconds": figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="figures made in parallel (default: the number of CPUs)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "plots.json"),
                        help="where the record goes")
    args = parser.parse_args(argv)
    from gdnp._io import atomic_write_text, package_versions

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    record = {
        "full": time_plots(False, args.jobs),
        "quick": time_plots(True, args.jobs),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_at_start": load},
        "versions": package_versions(),
    }
    atomic_write_text(args.out, json.dumps(record, indent=2) + "\n")
    print(f"full set: {record['full']['seconds']} s, --quick: {record['quick']['seconds']} s "
          f"({args.jobs} jobs) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
