"""``gdnp verify``: run the symbolic checks and report (MATH.md §8).

Prints a table (identity, source, status, time) and the summary line
``N proved, M failed, K documented discrepancies``; ``--json`` prints a JSON object with the
list of records (``"checks"``) and the counts (``"summary"``). The exit status is non-zero
only if an identity expected to hold is not proved (failed, timed out or errored), or a
documented discrepancy unexpectedly proves.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

from . import CHECKS, TOPICS
from .runner import DEFAULT_TIMEOUT, CheckResult, run_checks, summarize

__all__ = ["build_parser", "format_table", "summary_line", "verify_main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gdnp verify``."""
    parser = argparse.ArgumentParser(
        prog="gdnp verify",
        description="Prove the identities of MATH.md with sympy (exact, no numerics).",
    )
    parser.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    parser.add_argument(
        "--only",
        action="append",
        choices=TOPICS,
        metavar="TOPIC",
        help=f"run only this topic (repeatable); one of: {', '.join(TOPICS)}",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"per-check time limit in seconds (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: CPUs)")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also print each statement and detail"
    )
    return parser


def summary_line(counts: dict[str, int]) -> str:
    """``N proved, M failed, K documented discrepancies`` (plus timeouts/errors if any)."""
    line = (
        f"{counts['proved']} proved, {counts['failed']} failed, "
        f"{counts['discrepancy']} documented discrepancies"
    )
    extra = [f"{counts[k]} {k}" for k in ("timeout", "error") if counts[k]]
    return line + (", " + ", ".join(extra) if extra else "")


def format_table(results: Sequence[CheckResult], verbose: bool = False) -> str:
    """Plain-text table: identity, source, status, time."""
    rows = [("identity", "source", "status", "time")]
    rows += [(r.name, r.source, r.status, f"{r.seconds:.2f}s") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for k, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
        elif verbose:
            r = results[k - 1]
            lines.append(f"    {r.statement}")
            if r.detail:
                lines.extend(f"    ! {d}" for d in r.detail.strip().splitlines())
    return "\n".join(lines)


def verify_main(argv: list[str] | None = None) -> int:
    """Entry point of ``gdnp verify [--json] [--only TOPIC]``; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 if every identity expected to hold is proved and every documented discrepancy
        stays unprovable; 1 otherwise; 2 for a usage error (e.g. an unknown topic, with the
        list of topics).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed the message (topics listed)
        return int(exc.code) if isinstance(exc.code, int) else 2
    if args.timeout <= 0 or (args.jobs is not None and args.jobs < 1):
        print("gdnp verify: error: --timeout and --jobs must be positive", file=sys.stderr)
        return 2
    if args.list:
        for c in CHECKS:
            if args.only is None or c.topic in args.only:
                print(f"{c.name:45s} [{c.expected}] {c.statement}")
        return 0
    start = time.perf_counter()
    results = run_checks(only=args.only, timeout=args.timeout, jobs=args.jobs)
    elapsed = time.perf_counter() - start
    counts = summarize(results)
    if args.json:
        payload = {
            "checks": [r.to_dict() for r in results],
            "summary": {**counts, "seconds": round(elapsed, 3), "line": summary_line(counts)},
        }
        print(json.dumps(payload, indent=2))
    else:
        print(format_table(results, verbose=args.verbose))
        print()
        print(f"{summary_line(counts)}  ({elapsed:.1f} s)")
    return 0 if counts["ok"] else 1
