"""``gdnp verify``: run the symbolic checks and report (theory guide §8).

Prints a table (identity, generality, source, status, time) and the summary line
``N proved, M failed, K discrepancies refuted, U unrefuted``; failures show the labelled
identity that failed and its simplified residual, discrepancies their exact counterexample.
``--json`` prints a JSON object with the list of records (``"checks"``, each with
``generality`` and, for a discrepancy, ``counterexample``) and the counts with the boolean
``ok`` (``"summary"``).
``--bridge`` also evaluates the proved formulas against the numpy implementations
(:mod:`gdnp.proofs.bridge`). The exit status is non-zero if an identity expected to hold is
not proved (failed, timed out or errored), a documented discrepancy is not refuted by its
counterexample or unexpectedly proves, or a bridge comparison fails.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence

from . import CHECKS, TOPICS
from .runner import DEFAULT_TIMEOUT, CheckResult, run_checks, summarize

__all__ = ["build_parser", "format_table", "summary_line", "verify_main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gdnp verify``."""
    from gdnp.cli import ArgumentParser, add_progress_option

    parser = ArgumentParser(
        prog="gdnp verify",
        description="Prove the identities of the theory guide with sympy (exact, no numerics).",
    )
    parser.add_argument("--json", action="store_true", help="print JSON records instead of a table")
    parser.add_argument(
        "--only",
        action="extend",
        nargs="+",
        type=str.lower,
        metavar="TOPIC_OR_ID",
        help=f"run only these topics or check ids (several after one --only, or repeated); "
        f"topics: {', '.join(TOPICS)}; ids: see --list",
    )
    parser.add_argument(
        "--bridge",
        action="store_true",
        help="also compare the proved formulas of theory guide sections 1-5 with the numpy "
             "code at random points, on every problem form (--only selects the proofs, "
             "not these comparisons)",
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
    add_progress_option(
        parser,
        "no effect, accepted like the other commands' switch: gdnp verify prints no "
        "progress, only its report",
    )
    return parser


def summary_line(counts: dict[str, int]) -> str:
    """``N proved, M failed, K discrepancies refuted, U unrefuted`` (+ timeouts/errors)."""
    line = (
        f"{counts['proved']} proved, {counts['failed']} failed, "
        f"{counts['discrepancy']} discrepancies refuted, {counts['unrefuted']} unrefuted"
    )
    extra = [f"{counts[k]} {k}" for k in ("timeout", "error") if counts[k]]
    return line + (", " + ", ".join(extra) if extra else "")


def format_table(results: Sequence[CheckResult], verbose: bool = False) -> str:
    """Plain-text table: identity, generality, source, status, time.

    Rows that need attention (failed, unrefuted, timeout, error) and discrepancies are
    followed by their detail (residual and failing sub-identity, or the counterexample);
    ``verbose`` adds every statement.
    """
    rows = [("identity", "generality", "source", "status", "time")]
    rows += [(r.name, r.generality, r.source, r.status, f"{r.seconds:.2f}s") for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for k, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
            continue
        r = results[k - 1]
        if verbose:
            lines.append(f"    {r.statement}")
        if r.detail and (verbose or r.status != "proved"):
            lines.extend(f"    ! {d}" for d in r.detail.strip().splitlines())
    return "\n".join(lines)


def verify_main(argv: list[str] | None = None) -> int:
    """Entry point of ``gdnp verify [--json] [--only TOPIC ...]``; returns the exit status.

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
    if not (math.isfinite(args.timeout) and args.timeout > 0) or (
            args.jobs is not None and args.jobs < 1):
        print("gdnp verify: error: --timeout must be a finite number > 0 and --jobs a "
              f"positive integer, got --timeout {args.timeout:g}"
              + ("" if args.jobs is None else f" --jobs {args.jobs}"), file=sys.stderr)
        return 2
    names = {c.name for c in CHECKS}
    unknown = [o for o in args.only or [] if o not in TOPICS and o not in names]
    if unknown:
        import difflib

        close = [m for o in unknown
                 for m in difflib.get_close_matches(o, [*TOPICS, *sorted(names)], n=1)]
        hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
        print(
            f"gdnp verify: error: unknown topic or check id {', '.join(map(repr, unknown))}; "
            f"{hint}topics: {', '.join(TOPICS)}; ids: gdnp verify --list",
            file=sys.stderr,
        )
        return 2
    if args.list:
        listed = [c for c in CHECKS
                  if args.only is None or c.topic in args.only or c.name in args.only]
        if args.json:  # (it had printed the text list)
            print(json.dumps([{"name": c.name, "topic": c.topic, "statement": c.statement,
                               "source": c.source, "generality": c.generality,
                               "expected": c.expected} for c in listed], indent=2))
            return 0
        for c in listed:
            print(f"{c.name:45s} {c.generality:18s} [{c.expected}] {c.statement}")
        return 0
    start = time.perf_counter()
    results = run_checks(only=args.only, timeout=args.timeout, jobs=args.jobs)
    bridge = None
    if args.bridge:
        from .bridge import run_bridge

        bridge = run_bridge()
    elapsed = time.perf_counter() - start
    counts = summarize(results)
    bridge_ok = bridge is None or all(b.ok for b in bridge)
    if args.json:
        payload = {
            "checks": [r.to_dict() for r in results],
            "summary": {**counts, "seconds": round(elapsed, 3), "line": summary_line(counts)},
        }
        if bridge is not None:
            payload["bridge"] = [b.to_dict() for b in bridge]
        print(json.dumps(payload, indent=2))
    else:
        print(format_table(results, verbose=args.verbose))
        if bridge is not None:
            from .bridge import format_bridge

            print()
            print(format_bridge(bridge))
        print()
        print(f"{summary_line(counts)}  ({elapsed:.1f} s)")
    return 0 if counts["ok"] and bridge_ok else 1
