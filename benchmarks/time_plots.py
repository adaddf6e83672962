"""Time ``gdnp plots`` as a user runs it: the full figure set and ``--quick``.

Each run is a fresh ``python -m gdnp plots --out TMP --jobs J`` process into an empty
temporary folder (wall clock, from start to exit), so the times include interpreter start-up,
imports and the worker pool; ``cpu_seconds`` is the processor time of that process and its
workers (user + system), which other load on the machine disturbs less than the wall clock.
With ``--repeat N`` each set runs N times (full and quick alternating) and ``seconds`` is the
median, every run's time listed in ``runs``. The record, with the machine's load and package
versions, goes to ``benchmarks/plots.json`` (written atomically); the README and
``benchmarks/RESULTS.md`` quote it, and a test keeps the README's numbers equal to it.

Run ``python benchmarks/time_plots.py [--jobs J] [--repeat N] [--out FILE]`` on an idle
machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _children_cpu() -> float:
    use = resource.getrusage(resource.RUSAGE_CHILDREN)
    return use.ru_utime + use.ru_stime


def time_plots(quick: bool, jobs: int) -> dict:
    """Wall and processor time of one ``gdnp plots`` process (with its workers), and the
    per-figure compute seconds it wrote."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "gdnp", "plots", "--out", out, "--jobs", str(jobs),
               "--no-progress"] + (["--quick"] if quick else [])
        env = dict(os.environ, MPLBACKEND="Agg")
        cpu0 = _children_cpu()
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
        cpu = _children_cpu() - cpu0
        figures = {}
        for path in sorted(Path(out).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if "compute_seconds" in data:
                figures[path.stem] = round(float(data["compute_seconds"]), 2)
    return {"seconds": round(seconds, 1), "cpu_seconds": round(cpu, 1), "jobs": jobs,
            "figures": len(figures), "compute_seconds": figures}


def _summary(runs: list[dict]) -> dict:
    """The median run's record (by wall time), with every run's wall and processor time."""
    median = statistics.median_low([r["seconds"] for r in runs])
    rec = dict(next(r for r in runs if r["seconds"] == median))
    if len(runs) > 1:
        rec["runs"] = [{"seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"]}
                       for r in runs]
    return rec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="figures made in parallel (default: the number of CPUs)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each set (the record keeps the median and lists all)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "plots.json"),
                        help="where the record goes")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be >= 1, got {args.repeat}")
    from gdnp._io import atomic_write_text, package_versions

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    runs: dict[str, list] = {"full": [], "quick": []}
    for _ in range(args.repeat):
        for name in runs:
            runs[name].append(time_plots(name == "quick", args.jobs))
            print(f"{name}: {runs[name][-1]['seconds']} s wall, "
                  f"{runs[name][-1]['cpu_seconds']} s processor", flush=True)
    record = {
        "full": _summary(runs["full"]),
        "quick": _summary(runs["quick"]),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_at_start": load,
                    "load_average_at_end": os.getloadavg() if hasattr(os, "getloadavg")
                    else None},
        "versions": package_versions(),
    }
    atomic_write_text(args.out, json.dumps(record, indent=2) + "\n")
    print(f"full set: {record['full']['seconds']} s, --quick: {record['quick']['seconds']} s "
          f"({args.jobs} jobs) -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
