"""``gdnp sweep``: a resumable grid of seeded runs, serial, on joblib (loky) or on dask.

A sweep is the Cartesian product of a **grid** (``problem x kappa x dim x separation x n x
loss x method x seed``, and, where named, ``normalization``, ``bn_eps``, ``batch_size`` and
``statistics``) with fixed run settings (``maxiter``, ``tol``, per-method ``options``).
Each grid point is a **cell**: a pure, seeded, picklable function of its configuration
(:func:`run_cell`), keyed by a stable hash of that configuration (:func:`cell_key`). Keys that
do not apply to a problem are normalised away (``separation`` for OLS and the MLP, ``loss``
for OLS, ``batch_size`` for AGD and GDNP, ``statistics`` without a ``batch_size``, ``bn_eps``
for a norm other than ``batch``, ``normalization`` and ``bn_eps`` for GD and AGD, which run in
the original coordinates), so the grid never runs the same cell twice. Cells that differ
only in their run (``method``, ``batch_size``, ``statistics``; the problem's arguments equal)
form a **unit**: the problem is generated once and its reference optimum ``f*`` computed once
for all of them, which changes no number of the table.

Output folder (``--out DIR``)::

    DIR/sweep.json          JSON sidecar: the configuration, the cell keys, versions, platform
                            and thread settings (written atomically before anything else)
    DIR/.gdnp-sweep.lock    the pid and host of the sweep running in DIR (removed at its end);
                            a second sweep on the same folder is refused while that process
                            lives, and a lock left by a killed process is taken over
    DIR/cells/<key>.csv     one file per finished cell, written atomically (temp + os.replace)
                            as soon as the cell completes; a rerun skips these cells, so an
                            interrupted sweep resumes where it stopped
    DIR/results.csv         the long table: every cell's rows in grid order (written at the end)

Resuming and extending: rerunning the same command computes only the cells that have no valid
file. A cell file ends with a trailer line ``#gdnp-cell,key=<key>,rows=<n>,sha256=<hex>``
(the SHA-256 of the text above it); a file that is truncated, empty, header-only, holds
another cell's rows or fails its checksum is reported as damaged and recomputed, and every
cell is checked again before ``results.csv`` is assembled. A rerun may *extend* the grid
(every grid key keeps its old values and may add new ones; an optional key left out stands
for its default, ``normalization = "batch"``, ``bn_eps = 0``, no ``batch_size``, so a cell
names it only away from the default; ``maxiter``, ``tol`` and
``options`` unchanged): only the new cells run. Any other change of configuration in an
existing folder is refused and nothing is overwritten. Values no cell could use are refused
before any cell runs: unknown keys and option names, grid values out of their range
(``kappa < 1``, ``separation`` outside ``[1e-150, 1)``, NaN or infinity anywhere) and option values
that every problem kind of the grid refuses (``T_s = 30.0``, ``lr = -1``). A cell that fails
(bad input, a
problem with no finite minimiser, a size beyond the memory limit) is recorded as one row with
``status = -1`` and the reason, and the sweep goes on; the summary lists it under ``failed``
and ``gdnp sweep`` warns of it and exits with status 1 (a rerun keeps it: the same cell
fails the same way).

CSV schema (one row per run and recorded iteration; ``results.csv`` and every cell file):

=============  ======  ===========================================================
column         type    meaning
=============  ======  ===========================================================
key            str     16-hex-digit hash of the cell configuration
problem        str     ``ols``, ``halfspace`` or ``mlp``
kappa          float   condition number of ``S`` asked for
dim            int     dimension ``d``
separation     float   halfspace ``c = sqrt(u'S^-1 u)``; empty for other problems
n              int     number of samples (the MLP's default 2000 included); empty for a
                       population problem
loss           str     halfspace/MLP loss; empty for OLS
method         str     ``gd``, ``agd``, ``bngd`` or ``gdnp``
seed           int     seed of the problem and of the start
maxiter        int     iteration budget
normalization  str     norm of the BN coordinates (``batch``, ``weight``, ``l1``...;
                       ``batch`` when not set)
bn_eps         float   BN's epsilon (``0.0`` when not set)
batch_size     int     mini-batch size (``gd``, ``bngd``); empty for a full-batch run
statistics     str     ``batch`` or ``population`` statistics of a mini-batch run
                       (``batch`` when not set); empty for a full-batch run
iter           int     iteration index (``-1`` on the single row of a failed cell)
fun            float   objective ``f``
gap            float   ``f - f*`` (empty when no reference optimum exists)
grad_norm2     float   ``||grad f||^2_{S^-1}``
time           float   seconds since the start of the run (wall clock; not reproducible)
status         int     the run's final status (0, 1, 2, 99; ``-1``: the cell raised)
error          str     the exception of a failed cell; on the last row of a diverged run
                       (status 2) the solver's message; else empty
=============  ======  ===========================================================

Floats are written with ``repr`` (exact round trip). Everything but ``time`` is a deterministic
function of the configuration: serial and parallel sweeps give the same table.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import itertools
import json
import math
import os
import platform
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from gdnp._common import signal_handler_set, usable_cpus
from gdnp._io import (
    atomic_write_chunks,
    atomic_write_text,
    package_versions,
    pid_alive,
    remove_stale_scratch,
    scratch_prefix,
    writable_folder,
)
from gdnp._optional import optional_import
from gdnp.problems._validate import warn_external
from gdnp.problems.halfspace import SEPARATION_MIN
from gdnp.result import DEFAULT_MAXITER, DEFAULT_TOL

__all__ = ["GRID_KEYS", "COLUMNS", "COLUMN_TYPES", "load_config", "normalize_config",
           "expand_cells", "batch_problem", "cell_problem", "cell_key", "run_cell", "run_sweep",
           "read_results", "sweep_main"]

PROBLEMS = ("ols", "halfspace", "mlp")
#: The keys of a sweep grid (a cell is one value of each); see also the optional
#: ``normalization``, ``bn_eps``, ``batch_size`` and ``statistics``.
GRID_KEYS = ("problem", "kappa", "dim", "separation", "n", "loss", "method", "seed")
GRID_DEFAULTS: dict[str, list] = {"problem": ["ols"], "kappa": [100.0], "dim": [10],
                                  "separation": [0.9], "n": [None], "loss": ["logistic"],
                                  "method": ["gdnp"], "seed": [0]}
#: optional grid keys (theory guide §10-§11): in a cell only when the configuration names them,
#: so the cells (and keys) of configurations without them are unchanged
EXTRA_GRID_KEYS = ("normalization", "bn_eps", "batch_size", "statistics")
SETTING_KEYS = ("maxiter", "tol", "options")
CONFIG_COLUMNS = ("key", "problem", "kappa", "dim", "separation", "n", "loss", "method", "seed",
                  "maxiter", *EXTRA_GRID_KEYS)
RUN_COLUMNS = ("iter", "fun", "gap", "grad_norm2", "time", "status", "error")
#: The columns of ``results.csv`` and of every cell file, in order (the module's schema).
COLUMNS = CONFIG_COLUMNS + RUN_COLUMNS
SIDECAR = "sweep.json"
RESULTS = "results.csv"
CELLS = "cells"
LOCK = ".gdnp-sweep.lock"
FORMAT = "gdnp-sweep/2"
TRAILER = "#gdnp-cell"


# ------------------------------------------------------------------ configuration
def _methods() -> tuple[str, ...]:
    from .api import METHODS

    return tuple(METHODS)


def load_config(path) -> dict:
    """Read a sweep configuration from a JSON (``.json``) or TOML (``.toml``) file.

    The sweeps run the comparisons of theory guide §7 over a grid.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    dict
        The raw configuration (pass it to :func:`normalize_config` or :func:`run_sweep`); from
        a sweep's own ``sweep.json``, the configuration it recorded, so that
        ``gdnp sweep DIR/sweep.json --out OTHER`` reruns a sweep.

    Raises
    ------
    ValueError
        If the file is missing, cannot be parsed or does not hold a table at the top level.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from gdnp.sweep import load_config
    >>> path = os.path.join(tempfile.mkdtemp(), "sweep.json")
    >>> with open(path, "w") as fh:
    ...     _ = fh.write(json.dumps({"kappa": [10, 100], "maxiter": 20}))
    >>> load_config(path)
    {'kappa': [10, 100], 'maxiter': 20}
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"CONFIG: no such file {str(path)!r}")
    text = path.read_text()
    try:
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except Exception as exc:  # noqa: BLE001 - any parse error is a bad config
        raise ValueError(f"CONFIG: cannot parse {str(path)!r}: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"CONFIG: {str(path)!r} must hold a table/object at the top level")
    if str(data.get("format", "")).startswith("gdnp-sweep") and isinstance(
            data.get("config"), dict):
        return data["config"]  # a sweep's sidecar (DIR/sweep.json): rerun its configuration
    return data


def _plain(value):
    """numpy scalars and arrays as the Python numbers and lists JSON (and a cell's key) hold."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _as_list(key, value) -> list:
    """A grid key's values: a list, tuple, range or numpy array (``np.logspace(1, 3, 3)``) is
    the list of its items, anything else one value."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return [value.item()]
    if isinstance(value, (list, tuple, range, np.ndarray)):
        return [_plain(v) for v in (value.tolist() if isinstance(value, np.ndarray)
                                    else value)]
    return [_plain(value)]


def _convert(key: str, v):
    try:
        if key in ("problem", "loss", "normalization", "statistics") and isinstance(v, str):
            v = v.lower()  # names take any case, as gdnp solve's
        if key == "problem":
            if v not in PROBLEMS:
                raise ValueError(f"grid key 'problem': unknown problem {v!r}; "
                                 f"choose from {list(PROBLEMS)}")
            return v
        if key == "method":
            methods = _methods()
            if not isinstance(v, str) or v.lower() not in methods:
                raise ValueError(f"grid key 'method': unknown method {v!r}; "
                                 f"choose from {list(methods)}")
            return v.lower()
        if key == "loss":
            # only the built-in losses: worker processes know those by name, and a loss
            # registered at run time would key its cells by its name alone
            from gdnp.problems.losses import BUILTIN_LOSSES

            if v not in BUILTIN_LOSSES:
                raise ValueError(f"grid key 'loss': {v!r} is not a built-in loss; a sweep runs "
                                 f"{list(BUILTIN_LOSSES)} (worker processes know those by name "
                                 "only); run another loss with gdnp.solve")
            return v
        if key in ("kappa", "separation"):
            if isinstance(v, (bool, str)):  # a number, as "dim" and "seed" must be
                raise TypeError
            v = float(v)
            # the constructors' ranges, checked before any cell runs (as the command line's)
            if key == "kappa" and not (math.isfinite(v) and v >= 1.0):
                raise ValueError(f"grid key 'kappa': kappa must be a finite number >= 1, got "
                                 f"{v!r}")
            if key == "separation" and not SEPARATION_MIN <= v < 1.0:
                raise ValueError(f"grid key 'separation': separation must lie in "
                                 f"[{SEPARATION_MIN:g}, 1), got {v!r}")
            return v
        if key in ("dim", "seed"):
            if isinstance(v, bool) or int(v) != v:
                raise TypeError
            # the command line's ranges, refused before any cell runs (a cell of dim 0 had run,
            # failed and ended the sweep with exit 1)
            if key == "dim" and v < 1:
                raise ValueError(f"grid key 'dim': an integer >= 1 is needed, got {v!r}")
            if key == "seed" and v < 0:
                raise ValueError(f"grid key 'seed': an integer >= 0 is needed, got {v!r}")
            return int(v)
        if key in ("normalization", "statistics"):
            from gdnp.problems.normalization import NORMALIZATIONS

            allowed = NORMALIZATIONS if key == "normalization" else ("batch", "population")
            if v not in allowed:
                raise ValueError(f"grid key {key!r}: unknown value {v!r}; choose from "
                                 f"{list(allowed)}")
            return v
        if key == "bn_eps":
            if isinstance(v, (bool, str)) or not (float(v) >= 0 and math.isfinite(float(v))):
                raise TypeError
            return float(v)
        if key in ("n", "batch_size"):
            if v is None or (isinstance(v, str) and v.lower() in ("none", "population", "")):
                return None
            if isinstance(v, str):  # a number, as the other keys' (the words above aside)
                raise TypeError
            if isinstance(v, bool) or int(v) != v:
                raise TypeError
            if int(v) < (2 if key == "n" else 1):
                raise ValueError(f"grid key {key!r}: {key} must be at least "
                                 f"{2 if key == 'n' else 1}, got {int(v)}")
            return int(v)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith("grid key"):
            raise
        rule = _GRID_RULES.get(key, "a value of that key")
        raise ValueError(f"grid key {key!r}: bad value {v!r} ({rule} is needed)") from None
    raise ValueError(f"grid key {key!r} is unknown; known keys: "
                     f"{list(GRID_KEYS + EXTRA_GRID_KEYS)}")


# what each grid key takes, for the error on a value of the wrong kind or range
_GRID_RULES = {
    "kappa": "a finite number >= 1", "separation": "a number in [1e-150, 1)",
    "dim": "an integer", "seed": "an integer", "bn_eps": "a finite number >= 0",
    "n": "an integer >= 2, or null (JSON) or \"none\" (TOML, which has no null) for the "
    "population", "batch_size": "an integer >= 1, or null (JSON) or \"none\" (TOML) for the "
    "full batch",
}


def normalize_config(raw: dict) -> dict:
    """Canonical configuration ``{"grid": {...}, "maxiter", "tol", "options"}``.

    ``raw`` may hold the grid under ``"grid"`` or at the top level. Unknown keys, unknown
    methods/problems/losses and empty value lists raise ``ValueError`` naming them.

    Parameters
    ----------
    raw : dict
        Grid keys (``problem``, ``kappa``, ``dim``, ``separation``, ``n``, ``loss``,
        ``method``, ``seed`` and the optional ``normalization``, ``bn_eps``, ``batch_size``,
        ``statistics`` of theory guide §10-§11), each a value or a list, and the settings
        ``maxiter``, ``tol`` and ``options`` (per method).

    Returns
    -------
    dict
        ``{"grid": {key: [values]}, "maxiter": int, "tol": float, "options": {...}}`` with
        defaults filled in, values converted and duplicates removed.

    Raises
    ------
    ValueError
        Unknown keys, methods, problems or losses, empty value lists, invalid settings.

    Examples
    --------
    >>> from gdnp.sweep import expand_cells, normalize_config
    >>> config = normalize_config({"problem": ["ols"], "kappa": [10], "dim": [3],
    ...                            "method": ["gd", "gdnp"], "maxiter": 20})
    >>> config["grid"]["kappa"], config["grid"]["method"], config["maxiter"]
    ([10.0], ['gd', 'gdnp'], 20)
    >>> normalize_config({"kapa": [1]})
    Traceback (most recent call last):
    ...
    ValueError: unknown config key(s) ['kapa']; known: [...]
    """
    if not isinstance(raw, dict):
        raise ValueError("config must be a mapping")
    raw = dict(raw)
    grid_in = raw.pop("grid", {})
    if not isinstance(grid_in, dict):
        raise ValueError("config key 'grid' must be a mapping of grid keys to value lists")
    grid_in = dict(grid_in)
    for k in list(raw):
        if k in GRID_KEYS or k in EXTRA_GRID_KEYS:
            if k in grid_in:
                raise ValueError(f"grid key {k!r} given twice (top level and under 'grid')")
            grid_in[k] = raw.pop(k)
    unknown = sorted(set(grid_in) - set(GRID_KEYS) - set(EXTRA_GRID_KEYS))
    if unknown:
        raise ValueError(f"unknown grid key(s) {unknown}; known grid keys: "
                         f"{list(GRID_KEYS + EXTRA_GRID_KEYS)}")
    unknown = sorted(set(raw) - set(SETTING_KEYS))
    if unknown:
        raise ValueError(f"unknown config key(s) {unknown}; known: "
                         f"{['grid', *SETTING_KEYS, *GRID_KEYS, *EXTRA_GRID_KEYS]}")
    grid = {}
    defaults = dict(GRID_DEFAULTS)
    if "kappa" not in grid_in and "dim" in grid_in and \
            all(_convert("dim", v) == 1 for v in _as_list("dim", grid_in["dim"]) or [0]):
        defaults["kappa"] = [1.0]  # a 1-D S has condition number 1 (as in gdnp solve)
    for key in GRID_KEYS:
        values = _as_list(key, grid_in.get(key, defaults[key]))
        if not values:
            raise ValueError(f"empty grid: grid key {key!r} has no values")
        conv = []
        for v in values:
            c = _convert(key, v)
            if c not in conv:
                conv.append(c)
        grid[key] = conv
    if all(dim == 1 for dim in grid["dim"]) and any(k != 1.0 for k in grid["kappa"]):
        raise ValueError(f"grid keys 'dim' and 'kappa': every dim is 1, where S is 1 x 1 and "
                         f"its condition number is 1; kappa must be 1, got {grid['kappa']}")
    for key in EXTRA_GRID_KEYS:
        if key in grid_in:
            values = _as_list(key, grid_in[key])
            if not values:
                raise ValueError(f"empty grid: grid key {key!r} has no values")
            grid[key] = list(dict.fromkeys(_convert(key, v) for v in values))
    maxiter = _plain(raw.get("maxiter", DEFAULT_MAXITER))
    if isinstance(maxiter, bool) or not isinstance(maxiter, int) or maxiter < 0:
        raise ValueError(f"maxiter must be an integer >= 0, got {maxiter!r}")
    tol = _plain(raw.get("tol", DEFAULT_TOL))
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 <= tol < math.inf:
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    options = raw.get("options", {}) or {}
    if not isinstance(options, dict):
        raise ValueError("options must map method names to option mappings")
    from gdnp.api import method_option_names

    options = _plain(options)
    for m, opts in options.items():
        if m not in _methods():
            raise ValueError(f"options: unknown method {m!r}; choose from {list(_methods())}")
        if not isinstance(opts, dict):
            raise ValueError(f"options[{m!r}] must be a mapping of option names to values")
        allowed = method_option_names(m)
        unknown = sorted(set(opts) - set(allowed))
        if unknown:
            raise ValueError(f"options[{m!r}]: unknown option(s) {unknown}; {m} accepts "
                             f"{allowed}")
        for name, value in opts.items():
            if not _finite_tree(value):
                raise ValueError(f"options[{m!r}][{name!r}]: a finite value is needed, got "
                                 f"{value!r}")
    _check_option_values(options, grid)
    return {"grid": grid, "maxiter": int(maxiter), "tol": float(tol),
            "options": {m: dict(sorted(o.items())) for m, o in sorted(options.items())}}


def _finite_tree(value) -> bool:
    """No NaN or infinity anywhere in an option's value (numbers, lists, mappings)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_finite_tree(v) for v in value)
    if isinstance(value, dict):
        return all(_finite_tree(v) for v in value.values())
    return True


#: Option sets found valid on a grid (their JSON): a configuration normalised twice is
#: probed once.
_OPTIONS_CHECKED: set[str] = set()

#: Options checked per cell only (they depend on the cell's data: see batch_problem).
_CELL_OPTIONS = ("batch_size", "statistics")


def _check_option_values(options: dict, grid: dict) -> None:
    """Refuse, before any cell runs, an option value that every problem of the grid refuses
    (``T_s = 30.0``, ``lr = -1``): each method runs for zero iterations, with its options, on
    a small problem of each combination of the grid's problem kinds, dims, losses, norms and
    epsilons (its first kappa, separation and seed; a few samples where the grid has data). A
    value that some problem accepts (an option of the MLP only, a start of one dim) is left to
    the cells, which raise where it does not apply. Past 64 combinations nothing is checked."""
    from gdnp.api import solve
    from gdnp.cli import build_problem

    checked = {m: {k: v for k, v in o.items() if k not in _CELL_OPTIONS}
               for m, o in options.items()}
    checked = {m: o for m, o in checked.items() if o}
    if not checked:
        return
    # (the same options on the same grid were checked already: gdnp sweep normalises its
    # configuration, and run_sweep again)
    memo = json.dumps([checked, grid], sort_keys=True, default=str)
    if memo in _OPTIONS_CHECKED:
        return
    combos = list(itertools.product(
        grid["problem"], grid["dim"], grid["loss"], grid.get("normalization", ["batch"]),
        grid.get("bn_eps", [0.0])))
    if len(combos) > 64:
        return
    data = any(n is not None for n in grid["n"])
    built: dict = {}

    def probes():
        """The probe problems, built when first asked for (most checks end at the first)."""
        for combo in combos:
            if combo not in built:
                kind, dim, loss, norm, eps = combo
                try:
                    built[combo] = build_problem(
                        kind, kappa=grid["kappa"][0] if dim > 1 else 1.0, dim=dim,
                        seed=grid["seed"][0], separation=grid["separation"][0], loss=loss,
                        n=max(60, 4 * dim) if (data or kind == "mlp") else None,
                        normalization=norm, bn_eps=eps)
                except (TypeError, ValueError):
                    built[combo] = None  # no cell can build it: its cells raise on their own
            if built[combo] is not None:
                yield built[combo]

    for method, opts in checked.items():
        errors = []
        for small in probes():
            try:
                solve(small, method, maxiter=0, **{"reference": False, **opts})
            except (TypeError, ValueError) as exc:
                errors.append(exc)
            else:
                break
        else:
            if errors:
                raise ValueError(f"options[{method!r}]: {errors[0]}") from None
    _OPTIONS_CHECKED.add(memo)


def cell_key(cell: dict) -> str:
    """Stable 16-hex-digit hash of a cell configuration (sorted-key JSON, SHA-256).

    Parameters
    ----------
    cell : dict
        A cell configuration without its ``key`` (JSON-serializable, finite floats).

    Returns
    -------
    str
        The first 16 hex digits of the SHA-256 of the sorted-key JSON: the name of the
        cell's file, the same on every machine (theory guide §7's runs are reproducible).

    Examples
    --------
    >>> from gdnp.sweep import cell_key
    >>> cell_key({"a": 1}), cell_key({"a": 1}) == cell_key({"a": 1.0})
    ('015abd7f5cc57a2d', False)
    """
    blob = json.dumps(cell, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


#: The values of the optional grid keys that mean "not given" (theory guide §10-§11).
_EXTRA_DEFAULTS = {"normalization": "batch", "bn_eps": 0.0, "batch_size": None,
                   "statistics": None}
#: Other spellings of a default that name the same cell ("batch" statistics are a mini-batch
#: run's default).
_EXTRA_SAME = {"statistics": ("batch",)}


def expand_cells(config: dict) -> list[dict]:
    """The cells of a normalised configuration, in grid order, without duplicates.

    Keys that do not apply to a cell are normalised away (``separation`` for OLS and the
    MLP, ``loss`` for OLS, ``batch_size`` for ``agd`` and ``gdnp``, ``statistics`` without a
    ``batch_size``, ``bn_eps`` for a norm other than ``batch``, ``normalization`` and
    ``bn_eps`` for ``gd`` and ``agd``, which run in the original coordinates), so no run is
    repeated. A cell whose
    mini-batches the solver will refuse (:func:`gdnp.sweep.batch_problem`) is kept: it raises
    when it runs, and ``--dry-run`` names it.

    Parameters
    ----------
    config : dict
        The output of :func:`normalize_config`.

    Returns
    -------
    list of dict
        One configuration per run, each with its ``key`` (:func:`cell_key`), ``maxiter``,
        ``tol`` and the method's ``options`` (the comparisons of theory guide §7).

    Raises
    ------
    ValueError
        If the grid has no cells.

    Examples
    --------
    >>> from gdnp.sweep import expand_cells, normalize_config
    >>> config = normalize_config({"problem": ["ols"], "kappa": [10], "dim": [3],
    ...                            "method": ["gd", "gdnp"], "maxiter": 20})
    >>> cells = expand_cells(config)
    >>> [(c["method"], c["separation"], c["key"]) for c in cells]
    [('gd', None, '4b5a7ae7c8e8b494'), ('gdnp', None, '...')]
    """
    grid = config["grid"]
    keys = GRID_KEYS + tuple(k for k in EXTRA_GRID_KEYS if k in grid)
    cells, seen = [], set()
    for values in itertools.product(*(grid[k] for k in keys)):
        c = dict(zip(keys, values, strict=True))
        if c["method"] not in ("gd", "bngd") and "batch_size" in c:
            c["batch_size"] = None  # agd and gdnp run full-batch
        if c.get("batch_size") is None and "statistics" in c:
            c["statistics"] = None
        if c.get("normalization", "batch") != "batch" and "bn_eps" in c:
            c["bn_eps"] = 0.0  # BN's epsilon belongs to normalization="batch"
        if c["method"] in ("gd", "agd"):  # the original coordinates: no BN norm to vary
            if "normalization" in c:
                c["normalization"] = "batch"
            if "bn_eps" in c:
                c["bn_eps"] = 0.0
        if c["problem"] != "halfspace":
            c["separation"] = None
        if c["problem"] == "ols":
            c["loss"] = None
        if c["problem"] == "mlp" and c["n"] is None:  # the MLP is always data: the default n
            from gdnp.cli import MLP_DEFAULT_N

            c["n"] = MLP_DEFAULT_N  # (n = None and n = 2000 are the same run, one key)
        # an optional key at its default is the cell without it: the key (the file name of the
        # cell's results) is the same whether the default is spelled out or not, so a grid
        # can add "--normalization weight" beside the runs it made without the key
        for name, default in _EXTRA_DEFAULTS.items():
            if name in c and (c[name] == default or c[name] in _EXTRA_SAME.get(name, ())):
                del c[name]
        c["maxiter"] = config["maxiter"]
        c["tol"] = config["tol"]
        c["options"] = config["options"].get(c["method"], {})
        key = cell_key(c)
        if key in seen:
            continue
        seen.add(key)
        c["key"] = key
        cells.append(c)
    if not cells:
        raise ValueError("empty grid: no cells")
    return cells


def cell_problem(cell: dict) -> str | None:
    """Why the cell will raise when it runs, where that is known without running it: a
    ``kappa`` other than 1 at ``dim = 1`` (a 1 x 1 ``S``), or :func:`batch_problem`'s
    reason; ``None`` otherwise (``gdnp sweep --dry-run`` lists them).

    Examples
    --------
    >>> from gdnp.sweep import cell_problem, expand_cells, normalize_config
    >>> cells = expand_cells(normalize_config({"problem": "ols", "dim": [1, 3],
    ...                                        "kappa": 10, "method": "gd"}))
    >>> [cell_problem(c) for c in cells]
    ['kappa must be 1 when dim = 1 (a 1 x 1 S has condition number 1), got 10.0', None]
    """
    if cell["dim"] == 1 and cell["kappa"] != 1.0:
        return (f"kappa must be 1 when dim = 1 (a 1 x 1 S has condition number 1), got "
                f"{cell['kappa']!r}")
    return batch_problem(cell)


def batch_problem(cell: dict) -> str | None:
    """Why the solver will refuse a cell's mini-batches, or ``None`` (theory guide §11).

    A population problem has no samples to draw batches from, and a batch holds 2 to ``n``
    of them (1 to ``n`` with population statistics). Such a cell raises when it runs (a row
    with ``status = -1``) while the grid's other cells run; ``gdnp sweep --dry-run`` names it.

    Parameters
    ----------
    cell : dict
        A cell of :func:`expand_cells`.

    Returns
    -------
    str or None
        The reason, or ``None`` when the cell's batches (or its full-batch run) are fine.

    Examples
    --------
    >>> from gdnp.sweep import batch_problem, expand_cells, normalize_config
    >>> cells = expand_cells(normalize_config({"problem": "halfspace", "n": 50,
    ...                                        "method": "gd", "batch_size": [10, 100]}))
    >>> [batch_problem(c) for c in cells]
    [None, "batch_size must lie in [2, n = 50] with statistics='batch', got 100"]
    """
    size = cell.get("batch_size")
    if size is None:
        return None
    from gdnp.cli import MLP_DEFAULT_N
    from gdnp.stochastic import batch_size_range_error

    n = MLP_DEFAULT_N if cell["n"] is None and cell["problem"] == "mlp" else cell["n"]
    if n is None:
        return f"batch_size {size}: a population problem (n = None) has no samples"
    # the solver's own rule (gdnp.stochastic.check_batch_size), with the cell's n
    return batch_size_range_error(size, n, cell.get("statistics") or "batch")


# ------------------------------------------------------------------ one cell
def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return repr(v)
    return str(v)


def run_cell(cell: dict, blas_threads: int | None = 1) -> str:
    """Run one cell; return its rows as CSV text (header and checksum trailer included).

    Pure and seeded: the problem and the start depend on ``cell["seed"]`` only. Errors of the
    problem or solver (e.g. no finite minimiser, a size beyond the memory limit) give one row
    with ``status = -1`` and the reason in ``error``.

    Parameters
    ----------
    cell : dict
        One of :func:`expand_cells`'s cells.
    blas_threads : int or None, default 1
        BLAS threads for the run (threadpoolctl); ``None`` leaves them alone.

    Returns
    -------
    str
        The CSV text: the header (``COLUMNS``), one row per recorded iteration, and the
        trailer ``#gdnp-cell,key=<key>,rows=<n>,sha256=<hex>`` (theory guide §7's histories).

    Examples
    --------
    >>> from gdnp.sweep import expand_cells, normalize_config
    >>> config = normalize_config({"problem": ["ols"], "kappa": [10], "dim": [3],
    ...                            "method": ["gd", "gdnp"], "maxiter": 20})
    >>> from gdnp.sweep import run_cell
    >>> lines = run_cell(expand_cells(config)[0]).splitlines()
    >>> lines[0].split(",")[:4], len(lines) - 2        # header and trailer
    (['key', 'problem', 'kappa', 'dim'], 21)
    >>> lines[-1]
    '#gdnp-cell,key=4b5a7ae7c8e8b494,rows=21,sha256=...'
    """
    if not isinstance(cell, dict):
        raise TypeError(f"cell must be a dict (one of expand_cells' cells), got "
                        f"{type(cell).__name__}")
    missing = sorted(_CELL_FIELDS - cell.keys())
    if missing:
        raise ValueError(f"cell lacks {missing}: pass one of expand_cells' cells (from "
                         "normalize_config's configuration)")
    return _with_trailer(cell["key"], _cell_rows(cell, blas_threads))


#: The fields of a cell that :func:`run_cell` reads (:func:`expand_cells` makes them all).
_CELL_FIELDS = frozenset({"dim", "kappa", "key", "loss", "maxiter", "method", "n", "options",
                          "problem", "seed", "separation", "tol"})


def _with_trailer(key: str, text: str) -> str:
    rows = text.count("\n") - 1
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return f"{text}{TRAILER},key={key},rows={rows},sha256={digest}\n"


def check_cell(text: str, key: str) -> tuple[str | None, str]:
    """``(rows, "")`` for a valid cell file of ``key`` (its CSV rows, no header, no trailer),
    else ``(None, reason)``: empty, truncated, another cell's rows or a bad checksum."""
    if not text:
        return None, "empty file"
    body, sep, last = text[:-1].rpartition("\n")
    if not text.endswith("\n") or not sep or not last.startswith(TRAILER + ","):
        return None, "no checksum trailer (truncated or not written by this version)"
    try:
        fields = dict(f.split("=", 1) for f in last.split(",")[1:])
        rows = int(fields["rows"])
    except (ValueError, KeyError):
        return None, f"unreadable trailer {last[:80]!r}"
    body += "\n"
    if fields.get("key") != key:
        return None, f"holds cell {fields.get('key')!r}, not {key!r}"
    if hashlib.sha256(body.encode("utf-8")).hexdigest() != fields.get("sha256"):
        return None, "checksum mismatch"
    header, _, data = body.partition("\n")
    if header != ",".join(COLUMNS):
        return None, "unexpected columns"
    parsed = list(csv.reader(io.StringIO(data)))
    if len(parsed) != rows or rows < 1:
        return None, f"{len(parsed)} rows where the trailer says {rows}"
    if any(len(r) != len(COLUMNS) or r[0] != key for r in parsed):
        return None, "a row with the wrong number of fields or another key"
    return data, ""


def _problem_args(cell: dict) -> tuple:
    """The arguments of the cell's problem: cells that share them (the methods of one grid
    point, say) solve the very same problem instance."""
    return (cell["problem"], cell["kappa"], cell["dim"], cell["seed"], cell["n"],
            cell["separation"] or 0.9, cell["loss"] or "logistic",
            cell.get("normalization") or "batch", cell.get("bn_eps") or 0.0)


def _build(cell: dict):
    from gdnp.cli import build_problem

    problem, kappa, dim, seed, n, separation, loss, normalization, bn_eps = _problem_args(cell)
    return build_problem(problem, kappa=kappa, dim=dim, seed=seed, n=n, separation=separation,
                         loss=loss, normalization=normalization, bn_eps=bn_eps)


def _blas_limiter(blas_threads: int | None):
    if blas_threads:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # a dependency, but a broken install should still sweep
            pass
        else:
            return threadpool_limits(limits=int(blas_threads))
    return contextlib.nullcontext()


def _row_config(cell: dict) -> list:
    """The configuration columns of a cell's rows: the values its run used, defaults
    included (an MLP always has samples)."""
    from .cli import MLP_DEFAULT_N

    n = MLP_DEFAULT_N if cell["n"] is None and cell["problem"] == "mlp" else cell["n"]
    batched = cell.get("batch_size") is not None
    return [cell["key"], cell["problem"], cell["kappa"], cell["dim"], cell["separation"],
            n, cell["loss"], cell["method"], cell["seed"], cell["maxiter"],
            cell.get("normalization") or "batch",
            0.0 if cell.get("bn_eps") is None else cell["bn_eps"], cell.get("batch_size"),
            (cell.get("statistics") or "batch") if batched else None]


def _with_row_config(rows: str, cell: dict) -> str:
    """``rows`` with their configuration columns as :func:`_row_config` writes them: a cell
    file from an earlier version, which left the defaults empty, joins ``results.csv`` in the
    same spelling as the new cells (the cell file itself, checked by its hash, is kept)."""
    config = [_fmt(v) for v in _row_config(cell)]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(config)
    prefix = buf.getvalue()[:-1] + ","
    if all(line.startswith(prefix) for line in rows.splitlines()):
        return rows
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(rows)):
        writer.writerow([*config, *row[len(config):]])
    return out.getvalue()


def _cell_rows(cell: dict, blas_threads: int | None, shared: dict | None = None) -> str:
    """The cell's CSV rows (with the header). ``shared`` carries the problem from one cell to
    the next cell of the same unit (:func:`_units`): the problem is built once and its
    reference optimum ``f*`` (cached by the problem) computed once. A problem that fails to
    build is not kept, so every cell of the unit records the same error."""
    import numpy as np

    from .api import solve

    base = _row_config(cell)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    with _blas_limiter(blas_threads):
        try:
            args = _problem_args(cell)
            if shared is not None and shared.get("args") == args:
                prob = shared["problem"]
            else:
                prob = _build(cell)
                if shared is not None:
                    shared.update(args=args, problem=prob)
            batch = {} if cell.get("batch_size") is None else {
                "batch_size": cell["batch_size"], "statistics": cell.get("statistics") or "batch"}
            res = solve(prob, cell["method"], maxiter=cell["maxiter"], tol=cell["tol"],
                        seed=cell["seed"], **batch, **cell["options"])
        except (ValueError, TypeError, ArithmeticError, MemoryError,
                np.linalg.LinAlgError) as exc:
            w.writerow([*map(_fmt, base), -1, "", "", "", "", -1,
                        f"{type(exc).__name__}: {exc}"])
            return buf.getvalue()
    h = res.history
    gap = h.get("gap")
    last = len(h["iter"]) - 1
    for i in range(last + 1):
        # a diverged run says why on its last row (the solver's message)
        why = res.message if i == last and res.status == 2 else ""
        w.writerow([*map(_fmt, base), int(h["iter"][i]), _fmt(float(h["fun"][i])),
                    "" if gap is None else _fmt(float(gap[i])), _fmt(float(h["grad_norm2"][i])),
                    _fmt(float(h["time"][i])), int(res.status), why])
    return buf.getvalue()


def _units(cells: list[dict]) -> list[list[dict]]:
    """The cells grouped by problem (:func:`_problem_args`), in the order of each group's first
    cell, grid order inside a group: the unit of work of every backend."""
    groups: dict[tuple, list[dict]] = {}
    for c in cells:
        groups.setdefault(_problem_args(c), []).append(c)
    return list(groups.values())


def _run_unit(cells: list[dict], blas_threads: int | None) -> list[tuple[str, str]]:
    """``(key, text)`` of each cell of a unit, the problem built once for all of them."""
    shared: dict = {}
    return [(c["key"], _with_trailer(c["key"], _cell_rows(c, blas_threads, shared)))
            for c in cells]


# ------------------------------------------------------------------ files
def _versions() -> dict:
    return package_versions()


def _thread_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info

        return [{k: i.get(k) for k in ("user_api", "internal_api", "num_threads", "version")}
                for i in threadpool_info()]
    except Exception:  # noqa: BLE001
        return []


def _extends(old: dict, new: dict) -> bool:
    """Whether ``new`` keeps every grid value and run setting of ``old`` (a grid extension)."""
    if any(old.get(k) != new.get(k) for k in SETTING_KEYS):
        return False
    og, ng = _with_defaults(old.get("grid", {}), new["grid"])
    return set(og) == set(ng) and all(v in ng[k] for k in og for v in og[k])


def _with_defaults(old: dict, new: dict) -> tuple[dict, dict]:
    """Copies of two grids in which an optional key absent from one stands for its default
    there, and the other spellings of a default are the default (``statistics = "batch"``),
    so that they compare as the cells they name."""
    keys = (set(old) | set(new)) & set(_EXTRA_DEFAULTS)

    def canonical(grid: dict) -> dict:
        out = {k: list(v) for k, v in grid.items()}
        for key in keys:
            values = out.get(key, [_EXTRA_DEFAULTS[key]])
            out[key] = [_EXTRA_DEFAULTS[key] if v in _EXTRA_SAME.get(key, ()) else v
                        for v in values]
        return out

    return canonical(old), canonical(new)


def _what_differs(old: dict, new: dict) -> str:
    """``: ...`` naming the settings that changed and the grid values the new configuration
    drops (a default that differs, such as kappa's for dim 1, drops the old one too)."""
    parts = [f"{k} {old.get(k)!r} -> {new.get(k)!r}" for k in SETTING_KEYS
             if old.get(k) != new.get(k)]
    og, ng = _with_defaults(old.get("grid", {}), new["grid"])
    raw = old.get("grid", {})
    for key in sorted(set(og) | set(ng)):
        # (named as the old grid spelled them, not in their canonical form)
        missing = [v for v, c in zip(raw.get(key, og.get(key, [])), og.get(key, []),
                                     strict=False) if c not in ng.get(key, [])]
        if key not in ng or key not in og:
            parts.append(f"grid key {key!r} {'dropped' if key not in ng else 'added'}")
        elif missing:
            parts.append(f"grid key {key!r} no longer has {missing} (give them again"
                         + (", e.g. --kappa 1 for dim 1, whose default kappa is 1"
                            if key == "kappa" and 1.0 in missing else "") + ")")
    return (": " + "; ".join(parts)) if parts else ""


def _check_out(out: Path, config: dict) -> None:
    """Refuse a folder that is a file, holds something else, or another sweep's results."""
    writable_folder(out, "out")  # created here, so that the lock and cells can be written
    _check_out_contents(out, config)


def _check_out_contents(out: Path, config: dict) -> None:
    """:func:`_check_out` without creating or writing anything (``--dry-run``)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"out: {str(out)!r} exists and is not a folder")
    side = out / SIDECAR
    if side.exists():
        try:
            old = json.loads(side.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"out: cannot read {str(side)!r} ({exc}); refusing to overwrite") \
                from None
        if old.get("format") not in (FORMAT, "gdnp-sweep/1") or not _extends(
                old.get("config", {}), config):
            raise ValueError(
                f"out: the results folder {str(out)!r} was written by a different sweep "
                "configuration (a rerun may only add grid values, with the same maxiter, tol "
                f"and options){_what_differs(old.get('config', {}), config)}; use another "
                "--out folder (nothing was overwritten)")
    elif out.exists():
        extra = [p for p in out.iterdir() if p.name != LOCK and not (
            p.name == CELLS and p.is_dir() and not any(p.iterdir()))]
        if extra:  # an empty cells/ is what an early kill leaves: treat the folder as new
            raise ValueError(f"out: {str(out)!r} is not empty and holds no {SIDECAR}; "
                             "refusing to write a sweep into it")


@contextlib.contextmanager
def _lock(out: Path):
    """Hold ``out/.gdnp-sweep.lock`` (pid and host) for the duration of a sweep.

    The lock file is created complete (written to a temporary name, then ``os.link``-ed,
    which fails if it exists); a lock whose process is gone on this host is taken over.
    """
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK
    mine = {"pid": os.getpid(), "host": platform.node(), "started": time.time()}
    tmp = out / f"{scratch_prefix(LOCK)}lock.tmp"
    tmp.write_text(json.dumps(mine))
    try:
        for _ in range(3):
            try:
                os.link(tmp, path)
                break
            except FileExistsError:
                try:
                    other = json.loads(path.read_text())
                    pid, host = int(other["pid"]), str(other["host"])
                except (OSError, ValueError, KeyError, TypeError):
                    pid, host = -1, platform.node()
                if host != platform.node() or (pid > 0 and pid_alive(pid)):
                    raise ValueError(
                        f"out: another gdnp sweep (pid {pid} on {host}) is running in "
                        f"{str(out)!r}; wait for it to finish (then rerun to collect its "
                        f"cells), or delete {str(path)!r} if that process is gone") from None
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()  # stale: its process was killed
        else:
            raise ValueError(f"out: cannot take the lock {str(path)!r}")
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()


def _finished(out: Path, cells: list[dict]) -> tuple[set[str], list[tuple[str, str]]]:
    """Keys with a valid cell file, and ``(key, reason)`` for the damaged ones."""
    done, damaged = set(), []
    folder = out / CELLS
    for c in cells:
        path = folder / f"{c['key']}.csv"
        if not path.exists():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            damaged.append((c["key"], f"unreadable ({exc})"))
            continue
        rows, reason = check_cell(text, c["key"])
        if rows is None:
            damaged.append((c["key"], reason))
        else:
            done.add(c["key"])
    return done, damaged


def _earlier_runs(out: Path, config: dict, blas_threads: int | None, now: dict) -> list:
    """The runs recorded by the folder's sidecar, after checking that this run may add to
    them: the cells already computed must have had the same BLAS threads per worker (a
    threaded sum's last bits depend on it), and a change of package versions is warned of. A
    grid extension removes the old ``results.csv`` at once (it is assembled again at the end),
    so that no table of the old grid stays beside the new sidecar."""
    side = out / SIDECAR
    if not side.exists():
        return []
    old = json.loads(side.read_text())
    runs = old.get("runs") or [{"written": old.get("written"), "versions": old.get("versions"),
                                **{k: v for k, v in old.get("threads", {}).items()
                                   if k not in ("threadpools", "env")}}]
    has_cells = (out / CELLS).is_dir() and any((out / CELLS).glob("*.csv"))
    before = runs[-1].get("blas_threads_per_worker")
    if has_cells and before != blas_threads:
        raise ValueError(
            f"out: the cells in {str(out)!r} were computed with --blas-threads "
            f"{before or 0}; resume with the same value (the last bits of a threaded BLAS sum "
            "depend on it), or use another --out folder")
    changed = sorted(k for k in ("gdnp", "gdnp_commit", "numpy", "scipy")
                     if (runs[-1].get("versions") or {}).get(k) not in (None, now.get(k)))
    if has_cells and changed:
        warnings.warn(f"the cells in {str(out)!r} were computed with other versions of "
                      f"{changed} than this run's: results.csv will mix them", stacklevel=3)
    if old.get("config") != config and (out / RESULTS).exists():
        (out / RESULTS).unlink()
    return runs


def _sidecar_text(config: dict, cells: list[dict], run: dict, earlier: list | None = None,
                  versions: dict | None = None) -> str:
    """The sidecar's text; ``runs`` lists every invocation on the folder (its time, package
    versions and threads), the earlier ones carried over from the previous sidecar."""
    versions = _versions() if versions is None else versions
    this = {"written": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "versions": versions, **run}
    side = {"format": FORMAT, "config": config, "cells": [c["key"] for c in cells],
            "runs": [*(earlier or []), this],
            "columns": list(COLUMNS), "versions": versions,
            "platform": {"system": platform.platform(), "machine": platform.machine(),
                         "processor": platform.processor(), "cpu_count": os.cpu_count()},
            "threads": {**run, "threadpools": _thread_info(),
                        "env": {k: os.environ.get(k) for k in (
                            "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}},
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    return json.dumps(side, indent=2, sort_keys=True) + "\n"


def _assemble(out: Path, cells: list[dict]) -> tuple[Path, list[dict], list[str]]:
    """Write ``results.csv`` from the cell files, each checked again first; return its path,
    the cells that raised (``key`` and ``error`` of each row with ``status = -1``) and the keys
    of the cells whose run diverged (last row ``status = 2``). The file is written cell by
    cell (one cell in memory at a time, not the whole table)."""
    failed: list[dict] = []
    diverged: list[str] = []
    status, error = COLUMNS.index("status"), COLUMNS.index("error")

    def pieces():
        yield ",".join(COLUMNS) + "\n"
        for c in cells:
            path = out / CELLS / f"{c['key']}.csv"
            rows, reason = check_cell(path.read_text(encoding="utf-8"), c["key"])
            if rows is None:
                raise ValueError(f"out: cell file {str(path)!r} is damaged ({reason}); rerun "
                                 "the same command to recompute it")
            rows = _with_row_config(rows, c)
            if rows.count("\n") <= 1 and ",-1," in rows:  # one row: a cell that raised?
                row = next(csv.reader(io.StringIO(rows)), [])
                if len(row) == len(COLUMNS) and row[status] == "-1":
                    failed.append({"key": c["key"], "error": row[error]})
            last = next(csv.reader(io.StringIO(rows.rstrip("\n").rpartition("\n")[2])), [])
            if len(last) == len(COLUMNS) and last[status] == "2":
                diverged.append(c["key"])
            yield rows

    path = out / RESULTS
    atomic_write_chunks(path, pieces())
    return path, failed, diverged


class _NoBar:
    """Stand-in for a tqdm bar when tqdm is not installed."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        pass


def _progress_bar():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _NoBar
    return tqdm


# ------------------------------------------------------------------ backends
def _sigint_ignored():
    """SIGINT ignored while the block runs (in the main thread; elsewhere nothing changes).

    The loky workers a submit starts inherit the disposition, and Python installs no
    KeyboardInterrupt handler where SIGINT is ignored at start-up: a terminal's Ctrl-C, sent
    to the whole process group, then reaches this process alone, which stops the workers.
    Without it a worker still importing printed its own KeyboardInterrupt traceback (4 of 9
    interrupts in the first second)."""
    return signal_handler_set(signal.SIGINT, signal.SIG_IGN)


def _iter_serial(todo, blas_threads):
    for unit in _units(todo):
        yield from _run_unit(unit, blas_threads)


#: environment variables that size the BLAS / OpenMP thread pools of a worker at start-up
_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def _unit_cost(unit: list[dict]) -> float:
    """A rough relative cost of a unit: iterations times the size of the data it touches."""
    c = unit[0]
    size = (c["n"] or c["dim"]) * c["dim"]
    return float(sum(max(x["maxiter"], 1) for x in unit) * size)


#: Seconds a loky worker of ``gdnp sweep`` waits idle before it exits (joblib's default: 300).
_WORKER_IDLE_S = 20.0
#: How often a worker checks that the process that started it is still alive.
_PARENT_POLL_S = 1.0


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: a daemon thread ends this worker process once the sweep's process
    ``parent`` is gone (the worker is re-parented). A sweep killed by SIGKILL cannot stop its
    workers; without this, one that was writing a result the dead parent no longer reads
    blocked on the full pipe for ever."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(_PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="gdnp-parent-watch", daemon=True).start()



def _iter_loky(todo, jobs, blas_threads):
    """Run the units on ``jobs - 1`` loky worker processes *and in this process*.

    This process would otherwise only wait and write files; computing too, it starts at
    once (its imports are done or paid once anyway), while each worker first pays an
    interpreter start and the package imports (about a second). Units go out costliest first
    (:func:`_unit_cost`), one at a time to whoever is free, so the run ends with the
    smallest units and no process waits on another's queue; the costliest goes to this
    process, free first, the next ones to the workers. Every cell's text is a
    deterministic function of the cell, whoever computes it.
    """
    import queue
    import threading

    optional_import("joblib", "gdnp sweep --jobs N")
    # joblib's own loky executor: the process-wide singleton that joblib.Parallel reuses too
    # (a bare loky executor there breaks a later Parallel call in this process)
    from joblib.executor import get_memmapping_executor

    units = sorted(_units(todo), key=_unit_cost, reverse=True)  # stable: grid order in ties
    n_workers = min(jobs - 1, len(units) - 1)
    if n_workers < 1:
        yield from _iter_serial(todo, blas_threads)
        return
    # the BLAS pools of a worker, fixed before its imports (threadpool_limits in each cell
    # sets the same number again): blas_threads, else joblib's default share of the CPUs
    per_worker = blas_threads or max(usable_cpus() // jobs, 1)
    # an idle worker exits after _WORKER_IDLE_S instead of joblib's 300 s, and every worker
    # as soon as this process is gone (a SIGKILL leaves it no chance to stop them)
    executor = get_memmapping_executor(n_workers, timeout=_WORKER_IDLE_S,
                                       initializer=_exit_with_parent, initargs=(os.getpid(),),
                                       env={v: str(per_worker) for v in _THREAD_ENV})
    lock = threading.Lock()
    stop = threading.Event()
    results: queue.Queue = queue.Queue()
    work = list(reversed(units))  # pop() gives the costliest first

    def take():
        with lock:
            return work.pop() if work and not stop.is_set() else None

    outstanding: set = set()

    def submit(unit) -> None:
        with _sigint_ignored():  # a worker it starts ignores Ctrl-C (this process handles it)
            fut = executor.submit(_run_unit, unit, blas_threads)
        outstanding.add(fut)
        fut.add_done_callback(lambda f: results.put(("worker", f)))

    def local(unit) -> None:
        try:
            while unit is not None:
                results.put(("local", _run_unit(unit, blas_threads)))
                unit = take()
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            results.put(("error", exc))
        results.put(("local done", None))

    # the costliest unit to this process, free at once; the next ones to the workers, which
    # start computing only after their start-up (costliest first to whoever is free first)
    first = take()
    busy = 0
    for _ in range(n_workers):
        unit = take()
        if unit is not None:
            submit(unit)
            busy += 1
    thread = threading.Thread(target=local, args=(first,), name="gdnp-sweep-local",
                              daemon=True)
    thread.start()
    local_running = True
    try:
        while busy or local_running:
            kind, value = results.get()
            if kind == "local done":
                local_running = False
                continue
            if kind == "error":
                raise value
            if kind == "worker":
                busy -= 1
                outstanding.discard(value)
                pairs = value.result()  # a worker's error (or its death) is raised here
                unit = take()
                if unit is not None:
                    submit(unit)
                    busy += 1
            else:
                pairs = value
            yield from pairs
    except BaseException:
        # an error, Ctrl-C or a consumer that stops early: this process's thread ends after
        # its current unit (queued units are dropped) and the workers are stopped, as joblib
        # does when a parallel loop is aborted
        stop.set()
        # loky's kill drops the work items it has not handed to a worker yet while its
        # manager thread may still look them up (a KeyError there): wait (milliseconds)
        # until every submitted unit has been handed over
        deadline = time.monotonic() + 2.0
        while any(not (f.running() or f.done()) for f in outstanding) and \
                time.monotonic() < deadline:
            time.sleep(0.005)
        executor.shutdown(wait=True, kill_workers=True)
        raise
    thread.join()


@contextlib.contextmanager
def _dask_client(jobs, scheduler, timeout, processes):
    distributed = optional_import("distributed", "gdnp sweep --backend dask")
    Client, LocalCluster = distributed.Client, distributed.LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"scheduler: cannot reach the dask scheduler at {scheduler!r} "
                             f"within {timeout} s ({type(exc).__name__}: {exc})") from None
        try:
            yield client
        finally:
            client.close()
        return
    with LocalCluster(n_workers=jobs, threads_per_worker=1, processes=processes,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def _iter_dask(client, todo, blas_threads):
    from distributed import as_completed

    units = _units(todo)
    futs = client.map(_run_unit, units, blas_threads=blas_threads,
                      key=[f"gdnp-unit-{u[0]['key']}" for u in units], pure=False)
    for fut in as_completed(futs):
        yield from fut.result()


def run_sweep(config: dict, out, *, jobs: int = 1, backend: str = "loky",
              scheduler: str | None = None, timeout: float = 5.0, blas_threads: int | None = 1,
              dask_processes: bool = True, progress: bool | None = None,
              on_cell: Callable[[str, int], None] | None = None) -> dict:
    """Run (or resume) a sweep; return a summary dict.

    Parameters
    ----------
    config : dict
        Raw or normalised configuration (see :func:`normalize_config`).
    out : path
        Results folder (see the module docstring).
    jobs : int
        Processes computing cells. With loky: this process and ``jobs - 1`` worker processes
        (``1`` runs serially here; this process computes while the workers start, units go
        out costliest first); with dask: the LocalCluster's workers.
    backend : {"loky", "dask"}
    scheduler : str, optional
        Address of a running dask scheduler; a LocalCluster is created when omitted.
    timeout : float
        Seconds to wait for the scheduler before a ``ValueError``.
    dask_processes : bool
        The LocalCluster's workers are processes (default) or threads.
    blas_threads : int or None
        BLAS threads per worker (threadpoolctl); ``None`` leaves them alone.
    progress : bool, optional
        Show a progress bar on stderr (tqdm); default: when stderr is a terminal.
    on_cell : callable, optional
        ``on_cell(key, n_done)`` after each finished cell is written (for tests and tools).

    Returns
    -------
    dict
        ``cells``, ``skipped`` (valid cell files found), ``ran``, ``damaged`` (``key`` and
        ``reason`` of each cell file found damaged and recomputed), ``failed`` (``key`` and
        ``error`` of each cell that raised, ``status = -1``), ``diverged`` (the keys of the
        cells whose run ended with ``status = 2``; the ``error`` column of their last row
        holds the solver's message),
        ``seconds``, ``results`` and ``sidecar`` (paths).

    Raises
    ------
    ValueError
        Bad configuration, a folder holding something else or another configuration, or
        another sweep running in ``out`` (see the module docstring).

    Examples
    --------
    A serial sweep of two cells, and its long table (theory guide §7):

    >>> import os, tempfile
    >>> from gdnp.sweep import read_results, run_sweep
    >>> out = os.path.join(tempfile.mkdtemp(), "sweep")
    >>> summary = run_sweep({"problem": "ols", "kappa": 10, "dim": 3,
    ...                      "method": ["gd", "gdnp"], "maxiter": 20}, out, progress=False)
    >>> summary["cells"], summary["ran"], summary["skipped"]
    (2, 2, 0)
    >>> run_sweep({"problem": "ols", "kappa": 10, "dim": 3, "method": ["gd", "gdnp"],
    ...            "maxiter": 20}, out, progress=False)["skipped"]      # resumed: nothing to do
    2
    """
    config = normalize_config(config)
    if backend not in ("loky", "dask"):
        raise ValueError(f"backend must be 'loky' or 'dask', got {backend!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    if scheduler and backend != "dask":
        raise ValueError("scheduler: a scheduler address needs --backend dask")
    cells = expand_cells(config)
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a folder path (str or path-like), got "
                        f"{type(out).__name__}")
    out = Path(out)
    if backend == "loky" and jobs > 1:  # before anything is written
        optional_import("joblib", "gdnp sweep --jobs N")
        if jobs > usable_cpus():
            warn_external(f"jobs={jobs}, but this process may run on {usable_cpus()} CPU(s) "
                          "(the machine's, or a taskset's or a container's limit): the "
                          "workers share them, which is slower than fewer jobs",
                          RuntimeWarning)
    with contextlib.ExitStack() as stack:
        client = None
        if backend == "dask":  # connect first: an unreachable scheduler writes nothing
            client = stack.enter_context(_dask_client(jobs, scheduler, timeout, dask_processes))
        return _run(config, cells, out, jobs, backend, scheduler, blas_threads, progress,
                    on_cell, client)


def _run(config, cells, out, jobs, backend, scheduler, blas_threads, progress, on_cell, client):
    # what a killed run left (its temporary files, named by host and process) goes first, so
    # it neither piles up nor makes a new folder look used
    remove_stale_scratch(out)
    remove_stale_scratch(out / CELLS)
    _check_out(out, config)
    # the sidecar (slow: it imports every package for its version) is ready before the folder
    # is touched, and written atomically first, so a kill at any point leaves a resumable folder
    run = {"backend": backend, "jobs": jobs, "blas_threads_per_worker": blas_threads,
           "scheduler": scheduler}
    versions = _versions()
    with _lock(out):
        _check_out(out, config)  # again, under the lock: another sweep may have just written
        earlier = _earlier_runs(out, config, blas_threads, versions)
        atomic_write_text(out / SIDECAR, _sidecar_text(config, cells, run, earlier, versions))
        (out / CELLS).mkdir(exist_ok=True)
        done, damaged = _finished(out, cells)
        todo = [c for c in cells if c["key"] not in done]
        t0 = time.perf_counter()
        if backend == "dask":
            it: Iterable = _iter_dask(client, todo, blas_threads)
        elif jobs == 1:
            it = _iter_serial(todo, blas_threads)
        else:
            it = _iter_loky(todo, jobs, blas_threads)
        disable = not sys.stderr.isatty() if progress is None else not progress
        n_done = len(done)
        with _progress_bar()(total=len(cells), initial=len(done), disable=disable,
                             desc="gdnp sweep", unit="cell") as bar:
            for key, text in it:
                path = out / CELLS / f"{key}.csv"
                atomic_write_text(path, text)  # the same bytes whoever computed them
                n_done += 1
                bar.update(1)
                if on_cell is not None:
                    on_cell(key, n_done)
        results, failed, diverged = _assemble(out, cells)
    return {"cells": len(cells), "skipped": len(done), "ran": len(todo),
            "damaged": [{"key": k, "reason": r} for k, r in damaged], "failed": failed,
            "diverged": diverged,
            "seconds": time.perf_counter() - t0, "results": str(results),
            "sidecar": str(out / SIDECAR)}


#: The type of each numeric column of the CSV schema (the others are strings).
COLUMN_TYPES = {"kappa": float, "dim": int, "separation": float, "n": int, "seed": int,
                "maxiter": int, "bn_eps": float, "batch_size": int, "iter": int, "fun": float,
                "gap": float, "grad_norm2": float, "time": float, "status": int}


def read_results(path, typed: bool = False) -> list[dict]:
    """Rows of ``results.csv`` (or a folder holding it) as dicts.

    Parameters
    ----------
    path : str or path-like
        ``results.csv`` or the sweep folder.
    typed : bool, default False
        Convert the numeric columns to ``int`` or ``float`` (:data:`COLUMN_TYPES`) and
        missing values to ``None``; otherwise every value is the string written.

    Returns
    -------
    list of dict
        One dict per row, keyed by ``COLUMNS`` (empty strings, or ``None`` with ``typed``,
        for missing values); the histories of theory guide §7.

    Raises
    ------
    FileNotFoundError
        If there is no ``results.csv``.
    ValueError
        Naming the file and line, if a row has another number of fields than the header, a
        typed value does not parse, or the last line is cut short (a file truncated outside
        gdnp, which writes it whole).

    Examples
    --------
    >>> import os, tempfile
    >>> from gdnp.sweep import read_results, run_sweep
    >>> out = os.path.join(tempfile.mkdtemp(), "sweep")
    >>> _ = run_sweep({"problem": "ols", "kappa": 10, "dim": 3, "method": ["gd", "gdnp"],
    ...                "maxiter": 20}, out, progress=False)
    >>> rows = read_results(out)
    >>> len(rows), rows[0]["method"], rows[0]["iter"], rows[-1]["method"]
    (42, 'gd', '0', 'gdnp')
    >>> row = read_results(out, typed=True)[0]
    >>> row["iter"], row["kappa"], row["separation"]
    (0, 10.0, None)
    """
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS
    with open(path, newline="", encoding="utf-8") as fh:
        text = fh.read()
    if text and not text.endswith("\n"):
        raise ValueError(f"{path}: its last line is cut short (no line end): the file was "
                         "truncated; run the sweep again to rewrite it from its cells")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    for row in reader:
        line = reader.line_num
        if None in row or any(value is None for value in row.values()):
            raise ValueError(f"{path}, line {line}: {len(reader.fieldnames or ())} fields "
                             "expected (the header's), got another number")
        if typed:
            for key, kind in COLUMN_TYPES.items():
                value = row.get(key)
                if value is not None:
                    try:
                        row[key] = kind(value) if value != "" else None
                    except ValueError:
                        raise ValueError(f"{path}, line {line}: column {key!r} holds "
                                         f"{value!r}, not a{'n' if kind is int else ''} "
                                         f"{kind.__name__}") from None
            for key, value in row.items():
                if value == "":
                    row[key] = None
        rows.append(row)
    return rows


# ------------------------------------------------------------------ command line
def _help_formatter():
    from gdnp.cli import HelpFormatter

    return HelpFormatter


def _number(name: str, kind: type = float, minimum: float | None = None,
            maximum: float | None = None, open_min: bool = False, open_max: bool = False,
            none: bool = False) -> Callable[[str], Any]:
    """An argparse ``type`` for a numeric option, checked when the command line is parsed.

    Parameters
    ----------
    name : str
        The option's name in the messages (as in ``gdnp solve``'s, e.g. ``kappa``).
    kind : {float, int}
        A float must be finite and within the bounds (the checks of
        :func:`gdnp.problems._validate.as_real`); an int at least ``minimum``.
    minimum, maximum : float, optional
        The bounds, excluded with ``open_min`` / ``open_max``.
    none : bool
        Also accept ``none`` (or ``population``), the grid's "no value"; the value is then
        returned as text, as a config file would hold it, for :func:`normalize_config`.

    Returns
    -------
    callable
        ``text -> value``, raising ``argparse.ArgumentTypeError`` (an argparse error, exit
        status 2, that names the option) for a bad value.
    """
    from gdnp.problems._validate import as_real

    def convert(text: str):
        if none and text.strip().lower() in ("none", "population", ""):
            return text
        try:
            value = kind(text)
            if kind is int:
                if minimum is not None and value < minimum:
                    raise ValueError
            else:
                as_real(value, name, minimum=minimum, maximum=maximum, open_min=open_min,
                        open_max=open_max)
        except ValueError as exc:
            if kind is float and str(exc).startswith(name):
                raise argparse.ArgumentTypeError(str(exc)) from None
            low = "" if minimum is None else f" >= {minimum:g}"
            raise argparse.ArgumentTypeError(
                f"{name} must be an integer{low}{' or none' if none else ''}, got {text!r}"
                if kind is int else f"{name} must be a number, got {text!r}") from None
        return value

    return convert


def _parser() -> argparse.ArgumentParser:
    from gdnp.cli import ArgumentParser, add_progress_option

    p = ArgumentParser(
        prog="gdnp sweep", formatter_class=_help_formatter(),
        description="Run a resumable grid of seeded solver runs; one long CSV table plus a "
                    "JSON sidecar (schema in gdnp.sweep's docstring).")
    p.add_argument("config", nargs="?", help="JSON or TOML config file (grid, maxiter, tol, "
                   "options); command-line grid options override its keys")
    d = {k: " ".join("none" if v is None else str(v) for v in vals)
         for k, vals in GRID_DEFAULTS.items()}
    p.add_argument("--problem", nargs="+",
                   help=f"among {', '.join(PROBLEMS)}, any case (default: {d['problem']})")
    p.add_argument("--kappa", nargs="+", type=_number("kappa", minimum=1.0),
                   help=f"condition numbers of S (default: {d['kappa']}; 1.0 when every "
                        "--dim is 1)")
    p.add_argument("--dim", nargs="+", type=_number("dim", int, minimum=1),
                   help=f"input dimensions d, the d= of the Python constructors "
                        f"(default: {d['dim']})")
    p.add_argument("--separation", nargs="+",
                   type=_number("separation", minimum=0.0, maximum=1.0, open_min=True,
                                open_max=True),
                   help=f"halfspace separations in [{SEPARATION_MIN:g}, 1) (default: "
                        f"{d['separation']})")
    from gdnp.cli import MLP_DEFAULT_N

    p.add_argument("--n", nargs="+", type=_number("n", int, minimum=1, none=True),
                   help=f"samples per problem, 'none' = population; the MLP, which has no "
                        f"population form, takes {MLP_DEFAULT_N} samples there, as gdnp solve "
                        f"does (default: {d['n']})")
    p.add_argument("--loss", nargs="+", help=f"halfspace and MLP losses (default: {d['loss']})")
    p.add_argument("--method", nargs="+",
                   help=f"among {', '.join(_methods())}, any case (default: {d['method']})")
    p.add_argument("--seed", nargs="+", type=_number("seed", int, minimum=0),
                   help=f"seeds (default: {d['seed']})")
    p.add_argument("--normalization", nargs="+",
                   help="norms of the BN coordinates: batch, weight, l1, l3, linf "
                        "(default: batch)")
    p.add_argument("--bn-eps", nargs="+", type=_number("bn_eps", minimum=0.0),
                   help="BN epsilons (default: 0)")
    p.add_argument("--batch-size", nargs="+",
                   type=_number("batch_size", int, minimum=1, none=True),
                   help="mini-batch sizes for gd and bngd ('none' = full batch; default: none)")
    p.add_argument("--statistics", nargs="+",
                   help="batch and/or population (default: batch)")
    p.add_argument("--maxiter", type=_number("maxiter", int, minimum=0),
                   help=f"iteration budget per run (default: {DEFAULT_MAXITER})")
    p.add_argument("--tol", type=_number("tol", minimum=0.0),
                   help=f"stop a run once ||grad f||_{{S^-1}} <= tol (default: {DEFAULT_TOL:g})")
    p.add_argument("--jobs", type=_number("jobs", int, minimum=1), default=1,
                   help="processes computing cells (loky: this one and JOBS-1 workers)")
    p.add_argument("--backend", default="loky", choices=("loky", "dask"),
                   help="loky (joblib) or dask")
    p.add_argument("--scheduler", default=None,
                   help="dask scheduler address (default: start a LocalCluster)")
    p.add_argument("--timeout", type=_number("timeout", minimum=0.0, open_min=True),
                   default=None, help="seconds to wait for the dask scheduler (default 5)")
    p.add_argument("--dask-local", choices=["processes", "threads"], default=None,
                   help="LocalCluster workers as processes (default) or threads")
    p.add_argument("--blas-threads", type=_number("blas_threads", int, minimum=0), default=1,
                   help="BLAS threads per worker (0: leave unchanged)")
    p.add_argument("--out", default="sweep-results", help="results folder")
    p.add_argument("--dry-run", action="store_true",
                   help="list the cells, and which of them --out already holds, and exit")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_progress_option(p, "progress bar on stderr (default: when stderr is a terminal)")
    return p


def _dry_run(config: dict, out: Path, as_json: bool) -> int:
    """``gdnp sweep --dry-run``: the cells, and which of them ``out`` already holds, without
    running or writing anything. Prints one JSON object per cell (with ``"done"``: whether
    ``out`` holds its valid cell file) and a summary on stderr, or with ``--json`` one JSON
    document ``{"out", "cells", "done", "to_run", "damaged", "will_raise"}``. A folder that a
    run would refuse (another configuration's results: a changed ``maxiter``, say) is refused
    here too, with the same message."""
    cells = expand_cells(config)
    _check_out_contents(out, config)
    done, damaged = _finished(out, cells) if out.is_dir() else (set(), [])
    bad = [(c["key"], why) for c in cells if (why := cell_problem(c))]
    if as_json:
        print(json.dumps({
            "out": str(out), "cells": cells, "done": [c["key"] for c in cells
                                                      if c["key"] in done],
            "to_run": [c["key"] for c in cells if c["key"] not in done],
            "damaged": [{"key": k, "reason": r} for k, r in damaged],
            "will_raise": [{"key": k, "reason": r} for k, r in bad]}, indent=2,
            sort_keys=True))
    else:
        for c in cells:
            print(json.dumps({**c, "done": c["key"] in done}, sort_keys=True))
    for key, why in bad:
        print(f"gdnp sweep: warning: cell {key} will raise: {why}", file=sys.stderr)
    for key, why in damaged:
        print(f"gdnp sweep: warning: cell {key} is damaged ({why}); a run recomputes it",
              file=sys.stderr)
    cells_word = "cell" if len(cells) == 1 else "cells"
    print(f"gdnp sweep: dry run: {len(cells)} {cells_word}, {len(done)} already done in "
          f"{str(out)!r}, {len(cells) - len(done)} to run; nothing was run or written",
          file=sys.stderr)
    return 0


def sweep_main(argv: list[str] | None = None) -> int:
    """``gdnp sweep`` (returns the exit status: 0 ok, 1 a cell failed, 2 bad input).

    Runs :func:`run_sweep` on a configuration file and/or grid options (theory guide §7).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``gdnp sweep``; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 when a cell failed (recorded with ``status = -1``, a warning each),
        2 on bad input (the message is printed to stderr), 130 or 143 when interrupted.

    Examples
    --------
    >>> import os, tempfile
    >>> from gdnp.sweep import sweep_main
    >>> out = os.path.join(tempfile.mkdtemp(), "sweep")
    >>> sweep_main(["--problem", "ols", "--kappa", "10", "--dim", "3", "--method", "gd",
    ...             "--maxiter", "20", "--out", out, "--no-progress"])
    gdnp sweep: 1 cell (0 already done, 1 run) in ... s -> .../sweep/results.csv
    0
    """
    args = _parser().parse_args(argv)
    try:
        if args.backend != "dask":  # dask's options are refused without it, not ignored
            given = [f"--{name}" for name, value in (("dask-local", args.dask_local),
                                                     ("timeout", args.timeout)) if value
                     is not None]
            if given:
                raise ValueError(f"{' and '.join(given)} need{'s' if len(given) == 1 else ''} "
                                 "--backend dask")
        raw: dict[str, Any] = load_config(args.config) if args.config else {}
        raw = dict(raw)
        grid = raw.pop("grid", {}) or {}
        if not isinstance(grid, dict):  # (dict() of a list or a string named nothing)
            raise ValueError(f"grid: a table of grid keys and their values is needed, got "
                             f"{type(grid).__name__}")
        grid = dict(grid)
        for key in GRID_KEYS + EXTRA_GRID_KEYS:
            val = getattr(args, key)
            if val is not None:
                raw.pop(key, None)
                grid[key] = val
        raw["grid"] = grid
        if args.maxiter is not None:
            raw["maxiter"] = args.maxiter
        if args.tol is not None:
            raw["tol"] = args.tol
        config = normalize_config(raw)
        if args.dry_run:
            return _dry_run(config, Path(args.out), args.json)
        summary = run_sweep(config, args.out, jobs=args.jobs, backend=args.backend,
                            scheduler=args.scheduler,
                            timeout=5.0 if args.timeout is None else args.timeout,
                            blas_threads=args.blas_threads or None,
                            dask_processes=args.dask_local != "threads",
                            progress=args.progress)
    except (ValueError, ImportError) as exc:
        print(f"gdnp sweep: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        n = len(list((Path(args.out) / CELLS).glob("*.csv")))
        terminated = type(exc).__name__ == "_Terminated"  # SIGTERM, raised by the CLI
        print(f"\ngdnp sweep: {'terminated' if terminated else 'interrupted'}; {n} cells saved "
              f"in {args.out}; rerun the same command to resume", file=sys.stderr)
        return 143 if terminated else 130
    for d in summary["damaged"]:
        print(f"gdnp sweep: warning: cell {d['key']} was damaged ({d['reason']}); recomputed",
              file=sys.stderr)
    failed = summary["failed"]
    for f in failed[:10]:
        print(f"gdnp sweep: warning: cell {f['key']} raised: {f['error']}", file=sys.stderr)
    if len(failed) > 10:
        print(f"gdnp sweep: warning: ... and {len(failed) - 10} more cells raised (status -1 "
              "in results.csv)", file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        diverged = summary["diverged"]
        extra = (f", {len(failed)} raised" if failed else "") + (
            f", {len(diverged)} diverged (status 2)" if diverged else "")
        cells = "cell" if summary["cells"] == 1 else "cells"
        print(f"gdnp sweep: {summary['cells']} {cells} ({summary['skipped']} already done, "
              f"{summary['ran']} run{extra}) in {summary['seconds']:.2f} s -> "
              f"{summary['results']}")
    return 1 if failed else 0
