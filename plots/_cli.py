"""``make_all`` and the ``gdnp plots`` command line."""

from __future__ import annotations

import argparse
import sys
import time

from ._core import FIGURES, make_figure

__all__ = ["make_all", "plots_main"]


def make_all(out_dir: str, quick: bool = False, only=None, pdf: bool = False,
             progress: bool = True) -> list[dict]:
    """Make every registered figure (or those named in ``only``) into ``out_dir``.

    A progress bar (tqdm) is shown when ``progress`` is true and stderr is a terminal.
    Returns one dict per figure (see :func:`make_figure`); skipped figures carry ``skipped``.
    """
    if isinstance(only, str):
        only = [only]
    names = list(FIGURES) if not only else list(only)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; known figures: {', '.join(FIGURES)}")
    show = bool(progress) and sys.stderr.isatty()
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        bar = names
    else:
        bar = tqdm(names, desc="figures", unit="fig", disable=not show, file=sys.stderr)
    out = []
    for name in bar:
        if hasattr(bar, "set_postfix_str"):
            bar.set_postfix_str(name)
        out.append(make_figure(name, out_dir, quick=quick, pdf=pdf))
    return out


def plots_main(argv=None) -> int:
    """``gdnp plots [--out DIR] [--quick] [--only NAME] [--pdf]``; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="gdnp plots", description="Make the gdnp figures (PNG, CSV and JSON per figure).")
    parser.add_argument("--out", default="figures", help="output folder (default: figures)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and iteration counts (seconds, for tests)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help=f"make only this figure (repeatable); one of: {', '.join(FIGURES)}")
    parser.add_argument("--pdf", action="store_true", help="also write a PDF per figure")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.only:
        unknown = [n for n in args.only if n not in FIGURES]
        if unknown:
            parser.error(f"unknown figure(s) {', '.join(unknown)}; "
                         f"choose from: {', '.join(FIGURES)}")
    t0 = time.perf_counter()
    results = make_all(args.out, quick=args.quick, only=args.only, pdf=args.pdf,
                       progress=not args.no_progress)
    for r in results:
        if "skipped" in r:
            print(f"{r['name']}: skipped: {r['skipped']}")
        else:
            print(f"{r['name']}: {r['png']} ({r['seconds']:.1f} s)")
    print(f"{len(results)} figure(s) in {time.perf_counter() - t0:.1f} s -> {args.out}")
    return 0
