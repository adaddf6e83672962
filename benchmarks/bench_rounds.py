"""Run ``gdnp bench`` several times and write the reported round from all of them.

One ``gdnp bench`` run measures each ratio once, and on a shared 2-core machine its larger
rows move by tens of percent between runs of the same code. This script runs the full
benchmark ``--runs N`` times, each in a fresh process, one after the other, and then:

* keeps every run's report in ``benchmarks/rounds.json`` (with the ranges of each row);
* reports the run whose per-iteration ratios are closest to the rows' medians over the runs
  (the smallest sum of ``|log(ratio / median)|``; no run is picked for its verdicts): its
  report becomes ``benchmarks/results.json``;
* rewrites the generated part of ``benchmarks/RESULTS.md`` (between ``<!-- rounds:start -->``
  and ``<!-- rounds:end -->``: the ranges over the runs and the reported run's ``gdnp bench
  --markdown`` tables) and the README's benchmark table (between ``<!-- bench:start -->`` and
  ``<!-- bench:end -->``).

Every file is written atomically. ``--from FILE ...`` takes reports already made by ``gdnp
bench --json`` (or the runs of a ``rounds.json``) instead of running the benchmark. A test
regenerates both texts from ``rounds.json`` and checks that the committed files hold them.

Run ``python benchmarks/bench_rounds.py [--runs 5]`` on an otherwise idle machine (about
three minutes per run).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = ROOT / "benchmarks" / "rounds.json"
RESULTS_JSON = ROOT / "benchmarks" / "results.json"
RESULTS_MD = ROOT / "benchmarks" / "RESULTS.md"
README = ROOT / "README.md"
MARKERS = {"rounds": ("<!-- rounds:start -->", "<!-- rounds:end -->"),
           "bench": ("<!-- bench:start -->", "<!-- bench:end -->")}


def run_once() -> dict:
    """One full ``gdnp bench --json`` in a fresh interpreter (its progress on stderr)."""
    out = subprocess.run([sys.executable, "-m", "gdnp", "bench", "--json", "--progress"],
                         check=True, stdout=subprocess.PIPE, text=True)
    return json.loads(out.stdout)


def _spread(values: list[float]) -> dict:
    return {"values": values, "min": min(values), "max": max(values),
            "median": statistics.median(values)}


def _other_quantities(rep: dict) -> dict[str, tuple[str, float]]:
    """The run's single numbers beside the per-iteration rows: ``{id: (label, value)}``."""
    r, ref = rep["ratios"], rep["reference"]
    sweep = r.get("sweep_speedup", {})
    out = {
        "first_table": ("`Halfspace.sample(100, 10, 1e5)`, first table (maxiter 60), GDNP / GD",
                        r["gdnp_over_gd"]["value"]),
        **{f"reference_{i}": (f"reference solution, n = {row['n']:.0e}".replace("e+0", "e")
                              + " [s]", row["seconds"]) for i, row in enumerate(ref)},
        "floor_gdnp": ("GDNP / two-matvec floor (first table)", r["floor_gdnp"]["value"]),
        "ols_n_ratio": ("OLS per iteration, n = 1e6 / n = 1e3 (GDNP)", r["ols_n_ratio"]["value"]),
        "wall_time": ("benchmark wall time [s]", rep["total_s"]),
    }
    if sweep:
        out["sweep_speedup"] = ("sweep speed-up (`--jobs 1` / `--jobs 2`, best of 2 rounds each)",
                                sweep["value"])
        out["sweep_speedup_no_startup"] = ("sweep speed-up without the worker's start-up",
                                           sweep["speedup_excluding_startup"])
    return out


def summarise(reports: list[dict]) -> dict:
    """Ranges over the runs, and which run is reported (1-based)."""
    if not reports:
        raise ValueError("reports: at least one benchmark report is needed")
    problems = [row["problem"] for row in reports[0]["iteration_ratios"]]
    for i, rep in enumerate(reports, 1):
        if rep.get("quick"):
            raise ValueError(f"reports: run {i} is a --quick run, which measures nothing")
        if [row["problem"] for row in rep["iteration_ratios"]] != problems:
            raise ValueError(f"reports: run {i} has other problems than run 1")
    rows = []
    for j, problem in enumerate(problems):
        per_run = [rep["iteration_ratios"][j] for rep in reports]
        row = {"problem": problem, "target": per_run[0]["target"],
               "ratio": _spread([r["ratio"] for r in per_run]),
               "met": [r["met"] for r in per_run]}
        for key in ("replay_ratio", "floor_ratio", "python_search_ratio"):
            if key in per_run[0]:
                row[key] = _spread([r[key] for r in per_run])
        rows.append(row)
    medians = [row["ratio"]["median"] for row in rows]
    distance = [sum(abs(math.log(r["ratio"] / m)) for r, m in zip(rep["iteration_ratios"],
                                                                     medians, strict=True))
                for rep in reports]
    reported = min(range(len(reports)), key=distance.__getitem__) + 1
    each = [_other_quantities(rep) for rep in reports]
    common = [key for key in each[0] if all(key in q for q in each)]  # (--no-sweep runs)
    others = {key: {"label": each[0][key][0], **_spread([q[key][1] for q in each])}
              for key in common}
    groups = {}
    groups_of = [row.get("group") for row in reports[0]["iteration_ratios"]]
    for name, prefix in (("population", "population halfspace"), ("ols", "OLS."),
                         ("empirical", "empirical family"), ("beyond", "empirical beyond"),
                         ("mlp", "MLP.")):
        chosen = [row for row, group in zip(rows, groups_of, strict=True)
                  if (group or row["problem"]).startswith(prefix)]
        if not chosen:
            continue
        groups[name] = {"min": min(row["ratio"]["min"] for row in chosen),
                        "max": max(row["ratio"]["max"] for row in chosen)}
        if "floor_ratio" in chosen[0]:
            groups[name]["floor_min"] = min(row["floor_ratio"]["min"] for row in chosen)
            groups[name]["floor_max"] = max(row["floor_ratio"]["max"] for row in chosen)
    below_floor = [(i + 1, row["problem"]) for row in rows if "floor_ratio" in row
                   for i, (a, b) in enumerate(zip(row["ratio"]["values"],
                                                  row["floor_ratio"]["values"], strict=True))
                   if a < b]
    per_sample = []  # the empirical rows of d = 100, T_s = 30: GD's and GDNP's costs per sample
    for j, problem in enumerate(problems):
        size = re.search(r"n=(\d+), d=100\b", problem)
        if not size or "T_s=30" not in problem or not (groups_of[j] or "").startswith(
                "empirical"):
            continue
        n = int(size.group(1))
        runs = [rep["iteration_ratios"][j] for rep in reports]
        per_sample.append({"problem": problem, "n": n,
                           "gd_ns": _spread([1e9 * r["gd_s"] / n for r in runs]),
                           "extra_ns": _spread([1e9 * (r["gdnp_s"] - r["gd_s"]) / n
                                                for r in runs])})
    return {"runs": len(reports), "reported": reported, "per_sample": per_sample,
            "selection": "the run with the smallest sum over the per-iteration rows of "
                         "|log(ratio / median over the runs)|",
            "distance": distance, "rows": rows, "groups": groups, "others": others,
            "rows_with_floor": sum(len(reports) for row in rows if "floor_ratio" in row),
            "below_floor": below_floor}


def ranges_markdown(summary: dict) -> str:
    """The two tables of ranges over the runs and the sentence naming the reported run."""
    n, k = summary["runs"], summary["reported"]
    head = "| quantity | " + " | ".join(f"run {i}" for i in range(1, n + 1)) + " |"
    sep = "|---|" + "---|" * n
    lines = [f"Ranges over {n} full runs of the same code (run {k} is the reported run; "
             f"the selection: {summary['selection']}):", "", head, sep]
    for row in summary["rows"]:
        cells = " | ".join(f"{v:.2f}" for v in row["ratio"]["values"])
        lines.append(f"| {row['problem']}, GDNP / GD | {cells} |")
    for key, spread in summary["others"].items():
        spec = ".0f" if key == "wall_time" else ".1f" if key.startswith("reference") else ".2f"
        cells = " | ".join(format(v, spec) for v in spread["values"])
        lines.append(f"| {spread['label']} | {cells} |")
    lines += ["", "The search ablation of the same runs (each cell: GDNP with its lengths "
              "replayed / GD, then the search floor / GD):", "",
              head.replace("quantity", "problem"), sep]
    for row in summary["rows"]:
        if "replay_ratio" not in row:
            continue
        cells = " | ".join(f"{a:.2f} / {b:.2f}" for a, b in zip(
            row["replay_ratio"]["values"], row["floor_ratio"]["values"], strict=True))
        lines.append(f"| {row['problem']} | {cells} |")
    python = [row for row in summary["rows"] if "python_search_ratio" in row]
    if python:
        lines += ["", "The same GDNP with its length search in Python (`GDNP_NUMBA=0`, the "
                  "same iterates) / GD, in the same rounds:", "",
                  head.replace("quantity", "problem"), sep]
        for row in python:
            cells = " | ".join(f"{v:.2f}" for v in row["python_search_ratio"]["values"])
            lines.append(f"| {row['problem']} | {cells} |")
    if summary.get("per_sample"):
        lines += ["", "Per sample (`d = 100`, `T_s = 30`; ranges over the runs): GD's iteration "
                  "over `n`, and what GDNP's iteration adds to it over `n`. GDNP / GD is one plus "
                  "their ratio:", "",
                  "| problem | n | GD [ns / sample] | GDNP - GD [ns / sample] |",
                  "|---|---|---|---|"]
        for row in sorted(summary["per_sample"], key=lambda r: r["n"]):
            gd, extra = row["gd_ns"], row["extra_ns"]
            lines.append(f"| {row['problem']} | {row['n']} | {gd['min']:.1f}-{gd['max']:.1f} | "
                         f"{extra['min']:.1f}-{extra['max']:.1f} |")
    below = summary["below_floor"]
    lines += ["", f"Rows below their floor (the floor is a lower bound up to the machine's "
              f"drift between rounds): {len(below)} of {summary['rows_with_floor']}"
              + ("." if not below else ": " + "; ".join(f"run {i}, {p}" for i, p in below)
                 + ".")]
    return "\n".join(lines) + "\n"


def results_region(summary: dict, report: dict) -> str:
    """What goes between the ``rounds`` markers of ``benchmarks/RESULTS.md``."""
    from gdnp.bench import to_markdown

    return (ranges_markdown(summary) + "\n"
            + f"The tables below are run {summary['reported']}'s `gdnp bench --markdown` "
              "output.\n\n" + to_markdown(report))


def readme_table(report: dict) -> str:
    """The reported run's per-iteration table (what the README's benchmark table holds)."""
    from gdnp.bench import to_markdown

    md = to_markdown(report)
    section = md[md.index("### GDNP / GD per iteration"):]
    table = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    return "\n".join(table)


def replace_region(text: str, name: str, body: str) -> str:
    start, end = MARKERS[name]
    i, j = text.find(start), text.find(end)
    if i < 0 or j < i:
        raise ValueError(f"the markers {start} ... {end} are missing")
    return text[:i + len(start)] + "\n" + body.rstrip("\n") + "\n" + text[j:]


def write_all(reports: list[dict]) -> dict:
    """Write ``rounds.json``, ``results.json``, RESULTS.md's and the README's regions."""
    from gdnp._io import atomic_write_text

    summary = summarise(reports)
    report = reports[summary["reported"] - 1]
    md = replace_region(RESULTS_MD.read_text(encoding="utf-8"), "rounds",
                        results_region(summary, report))
    readme = replace_region(README.read_text(encoding="utf-8"), "bench", readme_table(report))
    atomic_write_text(ROUNDS, json.dumps({"summary": summary, "reports": reports}, indent=1,
                                         default=float) + "\n")
    atomic_write_text(RESULTS_JSON, json.dumps(report, indent=2, default=float) + "\n")
    atomic_write_text(RESULTS_MD, md)
    atomic_write_text(README, readme)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="full benchmark runs (default 5)")
    parser.add_argument("--from", dest="files", nargs="+", metavar="FILE",
                        help="use these `gdnp bench --json` reports instead of running")
    args = parser.parse_args(argv)
    if args.files:  # `gdnp bench --json` reports, or a rounds.json (its runs re-summarised)
        reports = []
        for f in args.files:
            data = json.loads(Path(f).read_text(encoding="utf-8"))
            reports += data["reports"] if "reports" in data else [data]
    else:
        if args.runs < 1:
            parser.error("--runs must be at least 1")
        reports = []
        for i in range(args.runs):
            print(f"[rounds] run {i + 1} of {args.runs}", file=sys.stderr, flush=True)
            reports.append(run_once())
    summary = write_all(reports)
    print(f"reported run: {summary['reported']} of {summary['runs']}; wrote {ROUNDS.name}, "
          f"{RESULTS_JSON.name}, {RESULTS_MD.name} and the README's table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
