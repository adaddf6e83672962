"""``make_all`` and the ``gdnp plots`` command line."""

from __future__ import annotations

import sys
import time
from collections import deque

from gdnp._io import writable_folder

from ._core import FIGURES, FigureSkipped, figure_config, make_figure, one_blas_thread, write_figure

__all__ = ["make_all", "plots_main", "default_jobs"]


def default_jobs() -> int:
    """The number of cores this process may run on: the default ``jobs`` of :func:`make_all`.

    Returns
    -------
    int
        ``len(os.sched_getaffinity(0))`` where available, else ``os.cpu_count()`` (at least 1).
    """
    from gdnp._common import usable_cpus

    return usable_cpus()


def make_all(out_dir: str, quick: bool = False, only=None, pdf: bool = False,
             progress: bool = True, svg: bool = False, jobs: int | None = None) -> list[dict]:
    """Make every registered figure (or those named in ``only``) into ``out_dir``.

    With ``jobs > 1`` the figures run on one pool of ``jobs`` worker processes (forked where
    the platform allows, so that they start with this process's imports), each with BLAS
    pinned to one thread and the figures' own parallelism switched off: a figure cut into
    ``Parts`` runs as its pieces, the costliest pieces and figures
    first (``FigureSpec.cost``, about its seconds on one core), and is written and
    rendered as soon as its last piece is done, so that the workers finish together. With
    ``jobs = 1`` (or a single figure without pieces) they run one after the other in this
    process, each serially (no worker process) with BLAS on one thread; a figure's data do
    not depend on how it was made. By default ``jobs`` is the number of cores. The figures
    are those of the theory guide §7 and §10-§12.

    Parameters
    ----------
    out_dir : str or path
        Folder for the PNG, CSV and JSON of each figure (created if needed).
    quick : bool, default False
        Small sizes and iteration counts (seconds per figure; what the tests draw).
    only : str or list of str, optional
        Names of the figures to make (default: every registered figure).
    pdf, svg : bool, default False
        Also write a PDF / SVG per figure.
    progress : bool, default True
        Show a progress bar (tqdm) when ``jobs = 1`` and stderr is a terminal.
    jobs : int, optional
        Worker processes (default: the number of cores, ``default_jobs``; never more than
        the number of tasks).

    Returns
    -------
    list of dict
        One dict per figure, in registry order (see :func:`make_figure`); a skipped figure
        carries ``skipped`` (the reason) instead of its paths.

    Raises
    ------
    ValueError
        A name in ``only`` that is not a registered figure.

    Examples
    --------
    >>> import tempfile
    >>> from gdnp.plots import make_all
    >>> out = make_all(tempfile.mkdtemp(), quick=True, only="trajectories", progress=False)
    >>> out[0]["name"]
    'trajectories'
    """
    if isinstance(only, str):
        only = [only]
    names = list(FIGURES) if not only else list(only)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; known figures: {', '.join(FIGURES)}")
    jobs = default_jobs() if jobs is None else int(jobs)
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if jobs > 1 and (len(names) > 1 or FIGURES[names[0]].parts is not None):
        # (one figure cut into pieces runs them on the pool too: --only cost --jobs 2)
        return _make_parallel(names, out_dir, quick, pdf, svg, jobs)
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
        # make_figure runs BLAS on one thread, as the pool's workers do: a figure's data do
        # not depend on whether it was made alone or beside others
        out.append(make_figure(name, out_dir, quick=quick, pdf=pdf, svg=svg, n_jobs=1))
    return out


def _executor(jobs: int):
    """A process pool of ``jobs`` workers: forked on Linux (the workers inherit the imports
    already made here), started fresh elsewhere; each worker pins BLAS to one thread."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    fork = sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods()
    ctx = mp.get_context("fork" if fork else "spawn")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_worker_init)


_LIMITS = []


def _worker_init() -> None:
    """Pin BLAS to one thread for the worker's life (figures' data must not depend on it):
    the limits of :func:`~gdnp.plots._core.one_blas_thread` take effect when made, and are
    kept, never exited."""
    _LIMITS.append(one_blas_thread())


def _task(kind: str, name: str, config: dict, arg, out_dir: str, pdf: bool, svg: bool):
    """One job of :func:`_make_parallel`, in a worker.

    ``"part"``: run one piece (``arg``) of a figure and return ``(result, seconds)``;
    ``"join"``: join the pieces' results (``arg`` = ``(results, seconds)``), then write and
    render; ``"whole"``: compute, write and render a figure that has no pieces.
    """
    spec = FIGURES[name]
    t0 = time.perf_counter()
    if kind == "part":
        result = spec.parts.run(arg)
        return result, time.perf_counter() - t0
    if kind == "join":
        results, seconds = arg
        data = spec.parts.join(config, results)
    else:
        data = spec.compute(config)
        seconds = 0.0
    seconds += time.perf_counter() - t0
    return write_figure(name, config, data, seconds, out_dir, pdf=pdf, svg=svg)


def _plan(names, configs: dict) -> tuple[list, dict]:
    """The compute tasks, costliest first, and each split figure's slots for its results."""
    tasks, slots = [], {}
    for name in names:
        spec = FIGURES[name]
        if spec.parts is None:
            tasks.append((spec.cost, ("whole", name, None)))
            continue
        pieces = spec.parts.split(configs[name])
        weights = [float(spec.parts.weight(p)) if spec.parts.weight else 1.0 for p in pieces]
        total = sum(weights) or 1.0
        slots[name] = {"results": [None] * len(pieces), "left": len(pieces), "seconds": 0.0}
        for i, (piece, w) in enumerate(zip(pieces, weights, strict=True)):
            tasks.append((spec.cost * w / total, ("part", name, (i, piece))))
    tasks.sort(key=lambda t: -t[0])  # stable: registry order among equals
    return [t for _, t in tasks], slots


def _make_parallel(names, out_dir, quick, pdf, svg, jobs) -> list[dict]:
    """Every piece of every figure on one pool of ``jobs`` workers (see :func:`make_all`)."""
    from concurrent.futures import FIRST_COMPLETED, wait

    configs = {name: figure_config(name, quick, 1) for name in names}
    queue, slots = _plan(names, configs)
    queue = deque(queue)
    ready = deque(("join", name, None) for name, s in slots.items() if s["left"] == 0)
    jobs = max(min(jobs, len(queue) + len(ready)), 1)
    done: dict[str, dict] = {}
    with _executor(jobs) as pool:
        running = {}
        try:
            while queue or ready or running:
                while len(running) < jobs and (ready or queue):
                    kind, name, arg = ready.popleft() if ready else queue.popleft()
                    if name in done:  # skipped: its other pieces are not run
                        continue
                    if kind == "join":
                        s = slots[name]
                        arg = (s["results"], s["seconds"])
                    fut = pool.submit(_task, kind, name, configs[name],
                                      arg[1] if kind == "part" else arg, out_dir, pdf, svg)
                    running[fut] = (kind, name, arg)
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in finished:
                    kind, name, arg = running.pop(fut)
                    if name in done:
                        continue
                    try:
                        out = fut.result()
                    except FigureSkipped as exc:
                        done[name] = {"name": name, "skipped": str(exc)}
                        continue
                    if kind != "part":
                        done[name] = out
                        continue
                    s = slots[name]
                    s["results"][arg[0]], seconds = out
                    s["seconds"] += seconds
                    s["left"] -= 1
                    if s["left"] == 0:
                        ready.append(("join", name, None))
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [done[name] for name in names]


def plots_main(argv=None) -> int:
    """The ``gdnp plots`` command line: make the figures and print where they went.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``gdnp plots`` (default: ``sys.argv[1:]``): ``--out DIR``,
        ``--quick``, ``--only NAME`` (repeatable), ``--pdf``, ``--svg``, ``--jobs N``,
        ``--progress/--no-progress``.

    Returns
    -------
    int
        The exit status, 0 on success (bad arguments exit through argparse with status 2).
    """
    from gdnp.cli import ArgumentParser, HelpFormatter, _show_progress, add_progress_option

    parser = ArgumentParser(
        prog="gdnp plots", description="Make the gdnp figures (PNG, CSV and JSON per figure).",
        formatter_class=HelpFormatter)
    parser.add_argument("--out", default="figures", help="output folder")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and iteration counts (seconds, for tests)")
    parser.add_argument("--only", action="append", metavar="NAME", type=str.lower,
                        help=f"make only this figure (repeatable); one of: {', '.join(FIGURES)}")
    parser.add_argument("--pdf", action="store_true", help="also write a PDF per figure")
    parser.add_argument("--svg", action="store_true", help="also write an SVG per figure")
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes (the figures' pieces on one pool, BLAS pinned to "
                             "one thread each, the longest first; default: one per core)")
    add_progress_option(parser, "progress bar on stderr (default: when stderr is a terminal)")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.only:
        unknown = [n for n in args.only if n not in FIGURES]
        if unknown:
            parser.error(f"unknown figure(s) {', '.join(unknown)}; "
                         f"choose from: {', '.join(FIGURES)}")
    if args.jobs is not None and args.jobs < 1:
        parser.error(f"--jobs must be >= 1, got {args.jobs}")
    try:
        writable_folder(args.out, "--out")
    except ValueError as exc:
        parser.error(str(exc))
    t0 = time.perf_counter()
    results = make_all(args.out, quick=args.quick, only=args.only, pdf=args.pdf, svg=args.svg,
                       progress=_show_progress(args.progress), jobs=args.jobs)
    for r in results:
        if "skipped" in r:
            print(f"{r['name']}: skipped: {r['skipped']}")
        else:
            # (its pieces' computing, summed over the workers, and its drawing: more than the
            # wall clock where the pieces ran side by side)
            print(f"{r['name']}: {r['png']} ({r['seconds']:.1f} s of work)")
    print(f"{len(results)} figure(s) in {time.perf_counter() - t0:.1f} s wall clock -> "
          f"{args.out}")
    return 0
