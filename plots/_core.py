"""The figure registry, shared style and run helpers, and ``make_figure`` / ``redraw``.

A figure is a pair of functions: ``compute(config) -> data`` runs the solvers and returns
long-format tables (``{"tables": {name: {column: array}}, "results": {...}}``), and
``render(data) -> matplotlib.figure.Figure`` draws from that data alone. ``make_figure``
always writes the data to disk and renders from what it reads back, so a figure on disk can
be redrawn (:func:`redraw`) without running a single solver.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial, wraps

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from gdnp._io import remove_stale_scratch, scratch_prefix  # noqa: E402

from ._io import (  # noqa: E402
    atomic_write_bytes,
    file_sha256,
    read_json,
    read_tables_csv,
    table_schema,
    to_jsonable,
    versions,
    write_json,
    write_tables_csv,
)
from .style import METHOD_STYLE, RC, fit_text, style  # noqa: E402, F401

__all__ = ["FigureSpec", "Parts", "runs_in_turn", "flatten", "FIGURES", "register",
           "FigureSkipped", "make_figure", "redraw",
           "METHOD_STYLE", "style", "thin", "pmap", "run_solver", "gap_floor", "evaluation_noise",
           "fit_label",
           "fit_row", "table_fit", "FIT_COLUMNS", "FORMATS"]

FORMATS = ("png", "pdf", "svg")


class FigureSkipped(RuntimeError):
    """Raised by ``compute`` when a figure cannot be made here (e.g. an optional dependency
    is missing); :func:`make_figure` reports the message and writes nothing."""


@dataclass(frozen=True)
class FigureSpec:
    """One registered figure: ``config(quick)``, ``compute(config)`` and ``render(data)``.

    The figures of theory guide §7; modules register theirs with ``register`` on import.

    Parameters
    ----------
    name : str
        Registry name (the stem of the written files).
    title : str
        One-line description.
    config : callable
        ``config(quick) -> dict``: the sizes, seeds and methods (small ones when ``quick``).
    compute : callable
        ``compute(config) -> {"tables": ..., "results": ...}``: runs the solvers; may raise
        :class:`FigureSkipped`.
    render : callable
        ``render(data) -> matplotlib.figure.Figure`` from the written data alone.
    requires : tuple of str
        Optional dependencies (``("sklearn",)``).
    cost : float
        About the seconds the figure takes on one core (parallel runs start the costly
        figures first).
    parts : Parts, optional
        The figure's computation cut into independent pieces (see ``Parts``): a parallel
        :func:`~gdnp.plots.make_all` runs the pieces of every figure on one pool, so that no
        figure's solver runs wait for another's; ``compute`` is then
        ``parts.join(config, [parts.run(p) for p in parts.split(config)])``.

    Examples
    --------
    >>> from gdnp.plots import FIGURES
    >>> spec = FIGURES["trajectories"]
    >>> spec.name, spec.title
    ('trajectories', 'Weight paths in d = 2 over the OLS contours')
    >>> sorted(spec.config(True))[:3]
    ['grid', 'kappas', 'methods']
    """

    name: str
    title: str
    config: Callable[[bool], dict]
    compute: Callable[[dict], dict]
    render: Callable[[dict], matplotlib.figure.Figure]
    requires: tuple[str, ...] = field(default=())
    cost: float = 1.0  # ~seconds on one core: parallel runs start the costly figures first
    parts: Parts | None = None


@dataclass(frozen=True)
class Parts:
    """A figure's computation as independent pieces: ``split``, ``run`` and ``join``.

    Parameters
    ----------
    split : callable
        ``split(config) -> list`` of picklable pieces (each holds what its run needs).
    run : callable
        ``run(piece) -> result``, a module-level function (it runs in a worker process); may
        raise :class:`FigureSkipped`.
    join : callable
        ``join(config, results) -> {"tables": ..., "results": ...}`` from the results in the
        order of ``split``: the same data whatever ran the pieces, and wherever.
    weight : callable, optional
        ``weight(piece) -> float``, the piece's relative cost (default 1): a parallel run
        starts the costliest pieces first.
    """

    split: Callable[[dict], list]
    run: Callable
    join: Callable[[dict, list], dict]
    weight: Callable | None = None

    def compute(self, config: dict) -> dict:
        """The figure's data: every piece run (on ``config["n_jobs"]`` workers), then joined."""
        results = pmap(self.run, self.split(config), int(config.get("n_jobs", 1)))
        return self.join(config, results)


def _run_all(run: Callable, piece: list) -> list:
    return [run(args) for args in piece]


def runs_in_turn(run: Callable) -> Callable[[list], list]:
    """A ``Parts`` ``run`` for pieces that are lists of runs: ``run(args)`` for each
    ``args`` of the piece, one after the other (picklable when ``run`` is module-level);
    :func:`flatten` joins their results back into one list of rows."""
    return partial(_run_all, run)


def flatten(results: list) -> list:
    """The rows of :func:`runs_in_turn` pieces, in the order of ``split``."""
    return [row for piece in results for row in piece]


#: The registered figures by name, each a :class:`FigureSpec` (``gdnp plots --only NAME``).
FIGURES: dict[str, FigureSpec] = {}


def register(name: str, title: str, config, compute, render, requires=(),
             cost: float = 1.0, parts: Parts | None = None, *,
             replace: bool = False) -> FigureSpec:
    """Add a figure to :data:`FIGURES` (gdnp's figure modules register theirs on import).

    ``config(quick) -> dict`` (JSON data: it is recorded), ``compute(config) -> {"tables":
    {table: {column: list}}, "results": {...}}`` and ``render(data) -> Figure``, drawn from
    the data as :func:`load` reads them back (a text column stays text, any other is read as
    floats, ``None`` as NaN). With ``parts`` and no ``compute`` (``None``), ``compute`` is
    ``parts.compute``. A name already registered is refused unless ``replace=True``.

    Parameters
    ----------
    name, title, config, render, requires, cost
        The fields of :class:`FigureSpec` of the same names (``requires``: optional
        packages, without which the figure is skipped with a message).
    compute : callable or None
        ``compute(config) -> {"tables": ..., "results": ...}``; ``None`` with ``parts``.
    parts : optional
        The computation cut into independent pieces (a ``Parts``, as for
        :class:`FigureSpec`), which a parallel :func:`make_all` runs on one pool with every
        other figure's.
    replace : bool, default False
        Replace a figure of the same name.

    Returns
    -------
    FigureSpec
        The registered figure.

    Raises
    ------
    ValueError
        ``name`` is registered already (and ``replace`` is false), or neither ``compute``
        nor ``parts`` is given.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> from gdnp.plots import FIGURES, register
    >>> def compute(config):
    ...     return {"tables": {"curve": {"x": [0, 1, 2], "y": [1.0, 0.5, 0.25]}},
    ...             "results": {"halvings": 2}}
    >>> def render(data):
    ...     fig = Figure()
    ...     fig.subplots().plot(data["tables"]["curve"]["x"], data["tables"]["curve"]["y"])
    ...     return fig
    >>> spec = register("my_halving", "Halving", lambda quick: {"n": 3}, compute, render)
    >>> del FIGURES["my_halving"]
    """
    if name in FIGURES and not replace:
        raise ValueError(f"figure {name!r} is already registered; pass replace=True to "
                         "replace it")
    if compute is None:
        if parts is None:
            raise ValueError(f"figure {name!r}: give compute or parts")
        compute = parts.compute
    spec = FigureSpec(name, title, config, compute, _fitted(render), tuple(requires),
                      float(cost), parts)
    FIGURES[name] = spec
    return spec


# ----------------------------------------------------------------------------- helpers
def _fitted(render: Callable) -> Callable:
    """``render`` followed by :func:`~gdnp.plots.style.fit_to_width` (titles wrapped to the
    figure's print width)."""
    from .style import fit_to_width

    @wraps(render)
    def fitted(data: dict) -> matplotlib.figure.Figure:
        return fit_to_width(render(data))

    return fitted


def thin(n: int, max_points: int = 400, log: bool = False) -> np.ndarray:
    """Indices of at most ``max_points`` evenly spread records out of ``n`` (first and last
    kept): curves written to CSV are thinned, fits use the full history. ``log``: spread
    evenly in ``log(k + 1)`` instead, for a log iteration axis (every early record kept)."""
    if n <= max_points:
        return np.arange(n)
    if log:
        return np.unique(np.round(np.geomspace(1, n, max_points)).astype(int) - 1)
    return np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(int))


def pmap(fn, items, n_jobs: int = 1) -> list:
    """``[fn(i) for i in items]``, in parallel with joblib when ``n_jobs > 1``."""
    items = list(items)
    if n_jobs > 1 and len(items) > 1:
        try:
            from joblib import Parallel, delayed, parallel_config
        except ImportError:  # pragma: no cover - joblib is optional
            n_jobs = 1
        else:
            # one BLAS thread per worker on any machine (loky would give each cpus / n_jobs),
            # as make_figure pins its own process: a figure's data must not depend on the
            # machine's core count (a threaded sum's last bits do)
            with parallel_config(backend="loky", inner_max_num_threads=1):
                return Parallel(n_jobs=n_jobs)(delayed(fn)(i) for i in items)
    return [fn(i) for i in items]


def gap_floor(f_star: float, noise: float = 0.0) -> float:
    """The gap below which a history is rounding noise: ``1e3`` ulp of ``f*``, or four times
    the measured ``noise`` of ``f`` near the minimiser (:func:`evaluation_noise`) where that
    is larger (a population objective summed over quadrature nodes can be noisier)."""
    return max(1e3 * np.finfo(float).eps * max(abs(float(f_star)), 1e-300), 4.0 * float(noise))


def evaluation_noise(problem, x_star, samples: int = 16, seed: int = 0) -> float:
    """The spread of ``problem.f`` over points within a few ulps of ``x_star``.

    Near a minimiser ``f`` changes by ``O(ulp^2)`` there, so the spread is the rounding of
    ``f``'s own evaluation: gaps ``f - f*`` within it carry no information. Measured at
    ``x* (1 + k eps)`` for ``k = -8 .. 8`` and at ``samples`` seeded perturbations of a few
    ulps per coordinate.
    """
    x_star = np.asarray(x_star, dtype=float)
    eps = np.finfo(float).eps
    rng = np.random.default_rng(seed)
    points = [x_star * (1.0 + k * eps) for k in range(-8, 9)]
    points += [x_star + 4.0 * eps * np.abs(x_star) * rng.standard_normal(x_star.size)
               for _ in range(samples)]
    values = [float(problem.f(x)) for x in points]
    return float(max(values) - min(values))


def run_solver(problem, method: str, maxiter: int, *, seed: int = 0, x0=None,
               collect_x: bool = False, stop_gap: float | None = None, **opts) -> dict:
    """Run ``gdnp.solve`` and return plain arrays (never raises for a solver failure).

    ``collect_x`` stores every iterate (callback); ``stop_gap`` stops the run (status 99) at
    the first iterate whose gap is at or below it. A solver exception (e.g. a length
    bisection without sign change) is caught: the result then has ``status = -1``, the
    error text in ``error`` and the iterates the callback saw before it.
    """
    import gdnp

    xs, funs = [], []

    def cb(r):
        if collect_x:
            xs.append(np.array(r.x, dtype=float))
            funs.append(float(r.fun))
        if stop_gap is not None and r.get("gap", np.inf) <= stop_gap:
            raise StopIteration

    use_cb = collect_x or stop_gap is not None
    t0 = time.perf_counter()
    try:
        res = gdnp.solve(problem, method, x0=x0, maxiter=maxiter, tol=0.0, seed=seed,
                         callback=cb if use_cb else None, **opts)
    except Exception as exc:  # noqa: BLE001 - reported in the figure data
        out = {"status": -1, "error": f"{type(exc).__name__}: {exc}", "history": {},
               "nit": len(funs), "time": time.perf_counter() - t0}
        if collect_x:
            out["xs"] = np.array(xs)
            out["funs"] = np.array(funs)
        return out
    out = {"status": int(res.status), "error": "", "nit": int(res.nit), "nfev": int(res.nfev),
           "history": {k: np.asarray(v) for k, v in res.history.items()},
           "time": time.perf_counter() - t0, "x": np.asarray(res.x),
           "direction": res.get("direction"), "length": res.get("length"),
           "lr": res.get("lr")}
    if collect_x:
        out["xs"] = np.array(xs)
        out["funs"] = np.array(funs)
    return out


def fit_label(method: str, fit: dict) -> str:
    """Legend text: the method and what the rate fitter says of it (theory guide §7)."""
    name = METHOD_STYLE.get(method, {"label": method})["label"]
    return f"{name}: {fit_text(fit)}"


FIT_COLUMNS = ("kind", "rate", "rate_se", "one_minus_rate", "one_minus_rate_se", "order",
               "order_se", "window_start", "window_end", "n", "decades")


def fit_row(fit: dict) -> dict:
    """The columns of a fit that figures store in their CSV (the window as two columns)."""
    row = {k: fit[k] for k in FIT_COLUMNS if k in fit}
    row["window_start"], row["window_end"] = fit["window"]
    return row


def table_fit(tab: dict, mask) -> dict:
    """A fit read back from a CSV table (the first row selected by ``mask``)."""
    i = int(np.flatnonzero(mask)[0])
    fit = {k: tab[k][i] for k in FIT_COLUMNS if k in tab}
    fit["window"] = (fit.pop("window_start", np.nan), fit.pop("window_end", np.nan))
    return fit


# ----------------------------------------------------------------------------- drivers
def _paths(out_dir: str, name: str) -> dict:
    base = os.path.join(out_dir, name)
    return {"png": base + ".png", "pdf": base + ".pdf", "svg": base + ".svg",
            "csv": base + ".csv", "json": base + ".json"}


def load(out_dir: str, name: str) -> dict:
    """The data of figure ``name`` as written in ``out_dir``: ``{"tables", "results",
    "config", "meta"}``.

    Parameters
    ----------
    out_dir : str
        The directory :func:`make_figure` wrote to.
    name : str
        The figure.

    Returns
    -------
    dict
        ``name``; ``tables`` (dict of column dicts read from the CSV); ``results``, ``config``
        and ``meta`` (the whole JSON: seeds, versions, timings; theory guide §7).

    Raises
    ------
    ValueError
        If the arguments are swapped (a registered figure where the folder goes).
    FileNotFoundError
        If the figure's CSV or JSON is missing.

    Examples
    --------
    See :func:`make_figure` (run there as a doctest):

    >>> from gdnp.plots import load
    >>> data = load("figures", "trajectories")      # doctest: +SKIP
    >>> sorted(data)                                # doctest: +SKIP
    ['config', 'meta', 'name', 'results', 'tables']
    """
    _refuse_swapped(out_dir, name, "load")
    p = _figure_files(out_dir, name)
    meta = read_json(p["json"])
    recorded = meta.get("csv_sha256")
    if recorded is not None and file_sha256(p["csv"]) != recorded:
        raise ValueError(f"{name}: {p['csv']!r} is not the CSV its JSON was written with (the "
                         "two come from different runs, as a run killed while moving them in "
                         "leaves them); make the figure again")
    return {"name": name, "tables": read_tables_csv(p["csv"], meta.get("schema")),
            "results": meta["results"],
            "config": meta["config"], "meta": meta}


def _refuse_swapped(out_dir, name, caller: str) -> None:
    """``make_figure`` takes the name first, ``load`` and ``redraw`` the folder first: a call
    with the two swapped (a registered figure where the folder goes) is named as such."""
    if str(name) not in FIGURES and str(out_dir) in FIGURES:
        figure, folder = str(out_dir), str(name)
        call = (f"{caller}({figure!r}, {folder!r}) (the name first; load and redraw take the "
                "folder first)" if caller == "make_figure" else
                f"{caller}({folder!r}, {figure!r}) (the folder first; make_figure takes the "
                "name first)")
        raise ValueError(f"unknown figure {folder!r}: the arguments are swapped; call {call}")


def _figure_files(out_dir: str, name: str) -> dict:
    """The paths of figure ``name``'s files in ``out_dir``, or a ``FileNotFoundError`` that
    names the figure and the folder."""
    p = _paths(out_dir, name)
    if not (os.path.isfile(p["json"]) and os.path.isfile(p["csv"])):
        raise FileNotFoundError(f"no data of figure {name!r} in {str(out_dir)!r} (missing "
                                f"{name}.json or {name}.csv; make it with "
                                f"make_figure({name!r}, {str(out_dir)!r}))")
    return p


def _save(fig, path: str, fmt: str) -> None:
    import io

    buf = io.BytesIO()
    # no creation date in a PDF or SVG: the same data give the same bytes
    metadata = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(fmt)
    fig.savefig(buf, format=fmt, metadata=metadata)
    atomic_write_bytes(path, buf.getvalue())


def _formats(pdf: bool, svg: bool) -> list[str]:
    return ["png"] + (["pdf"] if pdf else []) + (["svg"] if svg else [])


def render(name: str, data: dict) -> matplotlib.figure.Figure:
    """The figure ``name`` drawn from ``data`` in the package style (the caller closes it)."""
    with style():
        return get_spec(name).render(data)


def _render_and_save(spec: FigureSpec, data: dict, out_dir: str, formats) -> dict:
    p = _paths(out_dir, spec.name)
    with style():
        fig = spec.render(data)
        try:
            for fmt in formats:
                _save(fig, p[fmt], fmt)
        finally:
            plt.close(fig)
    return {fmt: p[fmt] for fmt in formats}


def get_spec(name: str) -> FigureSpec:
    try:
        return FIGURES[name]
    except KeyError:
        raise ValueError(f"unknown figure {name!r}; known figures: {', '.join(FIGURES)}"
                         ) from None


def make_figure(name: str, out_dir: str, quick: bool = False, pdf: bool = False,
                svg: bool = False, n_jobs: int | None = None, config: dict | None = None
                ) -> dict:
    """Compute, write (CSV + JSON) and render figure ``name`` into ``out_dir``.

    The figures of theory guide §7: the data are written first, and the figure is rendered
    from the files just written, so :func:`redraw` reproduces it exactly. BLAS runs on one
    thread here (threadpoolctl), as in the workers of :func:`make_all`: a threaded
    matrix-vector product over the data sums in an order that depends on the thread count,
    and a figure's data must not depend on how it was made.

    Parameters
    ----------
    name : str
        A registered figure (see ``FIGURES``).
    out_dir : str
        Output directory (created if needed).
    quick : bool, default False
        Small sizes (the documentation gallery and tests).
    pdf, svg : bool, default False
        Also write a PDF / SVG beside the PNG.
    n_jobs : int, optional
        Overrides the figure's own worker count (1 when figures run in parallel).
    config : dict, optional
        A variant: the configuration to run instead of ``FIGURES[name].config(quick)`` (start
        from that dict and change entries; ``quick`` is then taken from it). It is written to
        the JSON like any other.

    Returns
    -------
    dict
        ``name``, the written paths (``png``, ``csv``, ``json``, ``pdf``/``svg`` when asked),
        ``seconds`` and ``compute_seconds``; a figure that cannot be made here (a missing
        optional dependency) returns ``{"name": name, "skipped": reason}``.

    Raises
    ------
    ValueError
        If ``name`` is not a registered figure.

    Examples
    --------
    >>> import tempfile
    >>> from gdnp.plots import load, make_figure, redraw
    >>> out = tempfile.mkdtemp()
    >>> paths = make_figure("trajectories", out, quick=True)
    >>> sorted(paths)
    ['compute_seconds', 'csv', 'json', 'name', 'png', 'seconds']
    >>> sorted(load(out, "trajectories")["tables"])
    ['curves', 'grid', 'path']
    >>> sorted(redraw(out, "trajectories"))       # from the CSV and JSON alone
    ['name', 'png']
    """
    _refuse_swapped(out_dir, name, "make_figure")
    if config is None:
        config = figure_config(name, quick, n_jobs)
    else:
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict (start from FIGURES[{name!r}].config(quick))"
                            f", got {type(config).__name__}")
        base = figure_config(name, bool(config.get("quick", quick)), n_jobs)
        unknown = sorted(set(config) - set(base))
        if unknown:
            raise ValueError(f"config: {name!r} has no setting(s) {unknown}; its settings are "
                             f"{sorted(base)}")
        config = {**base, **config}
    try:  # the JSON records the configuration: refuse one it cannot hold before any run
        json.dumps(to_jsonable(config), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"config: the figure's configuration must be JSON data (numbers, "
                        f"strings, lists, dicts) to be recorded; {exc}") from None
    t0 = time.perf_counter()
    try:
        with one_blas_thread():
            data = get_spec(name).compute(config)
    except FigureSkipped as exc:
        return {"name": name, "skipped": str(exc)}
    seconds = time.perf_counter() - t0
    out = write_figure(name, config, data, seconds, out_dir, pdf=pdf, svg=svg)
    out["seconds"] = time.perf_counter() - t0
    return out


def one_blas_thread():
    """BLAS limited to one thread (threadpoolctl's limits, in effect from this call on and
    restored on exit as a context manager; a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is optional
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def figure_config(name: str, quick: bool = False, n_jobs: int | None = None) -> dict:
    """The configuration :func:`make_figure` runs figure ``name`` with (and writes).

    Parameters
    ----------
    name : str
        A registered figure.
    quick : bool, default False
        Small sizes.
    n_jobs : int, optional
        Overrides the figure's own worker count, where it has one.

    Returns
    -------
    dict
        ``spec.config(quick)`` with ``quick`` added.
    """
    config = {**get_spec(name).config(bool(quick)), "quick": bool(quick)}
    if n_jobs is not None and "n_jobs" in config:
        config["n_jobs"] = int(n_jobs)
    return config


def write_figure(name: str, config: dict, data: dict, compute_seconds: float, out_dir: str,
                 pdf: bool = False, svg: bool = False) -> dict:
    """Write a computed figure's CSV and JSON, then render it from those files.

    Parameters
    ----------
    name : str
        A registered figure.
    config : dict
        Its configuration (:func:`figure_config`).
    data : dict
        What its ``compute`` returned.
    compute_seconds : float
        The seconds the computation took (written to the JSON).
    out_dir : str
        Output directory (created if needed).
    pdf, svg : bool, default False
        Also write a PDF / SVG.

    Returns
    -------
    dict
        ``name``, the written paths, ``seconds`` (writing and rendering) and
        ``compute_seconds``.
    """
    import shutil
    import tempfile

    spec = get_spec(name)
    t0 = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    formats = _formats(pdf, svg)
    p = _paths(out_dir, name)
    # the figure's files are replaced as a set: written and rendered in a scratch folder
    # beside them, then moved in, images first and the JSON (what load reads first) last; a
    # format this run did not write is removed, so no stale PDF or SVG stays beside new data
    remove_stale_scratch(out_dir)  # what a killed run left (named by host and process)
    scratch = tempfile.mkdtemp(prefix=scratch_prefix(name), dir=out_dir)
    try:
        q = _paths(scratch, name)
        csv_sha256 = write_tables_csv(q["csv"], data["tables"])
        write_json(q["json"], {"figure": name, "title": spec.title, "config": config,
                               "csv_sha256": csv_sha256,
                               "seeds": {k: v for k, v in config.items() if "seed" in k},
                               "results": data.get("results", {}), "versions": versions(),
                               "compute_seconds": compute_seconds, "formats": formats,
                               "schema": table_schema(data["tables"])})
        _render_and_save(spec, load(scratch, name), scratch, formats)
        for kind in (*formats, "csv", "json"):
            os.replace(q[kind], p[kind])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for kind in ("pdf", "svg"):
        if kind not in formats and os.path.exists(p[kind]):
            os.remove(p[kind])
    return {"name": name, **{fmt: p[fmt] for fmt in formats}, "csv": p["csv"],
            "json": p["json"], "seconds": time.perf_counter() - t0 + compute_seconds,
            "compute_seconds": compute_seconds}


def redraw(out_dir: str, name: str, pdf: bool = False, svg: bool = False) -> dict:
    """Re-render figure ``name`` from its CSV and JSON in ``out_dir`` (no solver runs).

    Restyling a figure of theory guide §7 needs no recomputation. The images in ``out_dir``
    stay one rendering, as after :func:`make_figure`: a PDF or SVG not asked for here (drawn
    earlier, perhaps in another style) is removed, and the JSON's ``formats`` lists the
    formats written.

    Parameters
    ----------
    out_dir : str
        The directory :func:`make_figure` wrote to.
    name : str
        The figure.
    pdf, svg : bool, default False
        Also write a PDF / SVG.

    Returns
    -------
    dict
        ``name`` and the written paths (``png``, and ``pdf``/``svg`` when asked).

    Raises
    ------
    ValueError
        If ``name`` is not a registered figure (the message says when the arguments are
        swapped).
    FileNotFoundError
        If its data files are missing.

    Examples
    --------
    See :func:`make_figure` (run there as a doctest):

    >>> from gdnp.plots import redraw
    >>> redraw("figures", "trajectories", pdf=True)   # doctest: +SKIP
    {'name': 'trajectories', 'png': 'figures/trajectories.png', 'pdf': 'figures/trajectories.pdf'}
    """
    _refuse_swapped(out_dir, name, "redraw")
    spec = get_spec(name)
    data = load(out_dir, name)
    formats = _formats(pdf, svg)
    paths = _render_and_save(spec, data, out_dir, formats)
    # the folder keeps one rendering: a format not redrawn now (drawn in an earlier style) is
    # removed, as make_figure does, and the JSON lists what is there, written last
    p = _paths(out_dir, name)
    for kind in ("pdf", "svg"):
        if kind not in formats and os.path.exists(p[kind]):
            os.remove(p[kind])
    if data["meta"].get("formats") != formats:
        write_json(p["json"], {**data["meta"], "formats": formats})
    return {"name": name, **paths}
