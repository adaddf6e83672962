"""``gdnp sweep``: cells sharing a problem (units) and the loky scheduling (fast)."""

from __future__ import annotations

import threading

import pytest

import gdnp.sweep as sweep_mod
from gdnp.sweep import check_cell, expand_cells, normalize_config, read_results, run_cell, run_sweep

GRID = {"grid": {"problem": ["ols", "halfspace"], "kappa": [10, 100], "dim": [4],
                 "n": [None, 300], "method": ["gd", "gdnp", "bngd"], "seed": [0, 1],
                 "batch_size": [None, 64]},
        "maxiter": 15, "options": {"gdnp": {"T_s": 10}}}


def _more_jobs_than_cpus(jobs: int):
    """The warning a sweep gives for more jobs than usable CPUs, where this machine has fewer
    (these tests run three processes on purpose)."""
    import contextlib

    from gdnp._common import usable_cpus

    if jobs <= usable_cpus():
        return contextlib.nullcontext()
    return pytest.warns(RuntimeWarning, match=f"jobs={jobs}, but this process may run on")


def _rows_without_time(text: str) -> list[list[str]]:
    rows, _ = check_cell(text, text.rsplit("key=", 1)[1].split(",", 1)[0])
    i = sweep_mod.COLUMNS.index("time")
    return [r[:i] + r[i + 1:] for r in (line.split(",") for line in rows.splitlines())]


def test_units_group_the_runs_of_one_problem():
    cells = expand_cells(normalize_config(GRID))
    units = sweep_mod._units(cells)
    # problem x kappa x n x seed problems, each run by 3 methods (gd and bngd also mini-batch)
    assert len(units) == 2 * 2 * 2 * 2
    assert sum(map(len, units)) == len(cells)
    for unit in units:
        assert len({sweep_mod._problem_args(c) for c in unit}) == 1
        assert [c["key"] for c in unit] == [c["key"] for c in cells if c in unit]  # grid order


def test_a_unit_builds_its_problem_once_and_changes_no_number(monkeypatch):
    import gdnp.cli

    cells = expand_cells(normalize_config(GRID))
    alone = {c["key"]: run_cell(c) for c in cells}  # every cell with its own problem
    built = []
    real = gdnp.cli.build_problem

    def counting(*args, **kwargs):
        built.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(gdnp.cli, "build_problem", counting)
    units = sweep_mod._units(cells)
    for unit in units:
        for key, text in sweep_mod._run_unit(unit, 1):
            assert _rows_without_time(text) == _rows_without_time(alone[key])
    assert len(built) == len(units)


def test_a_problem_that_fails_to_build_fails_every_cell_of_its_unit(monkeypatch):
    cfg = {"grid": {"problem": ["ols"], "dim": [3], "method": ["gd", "gdnp"]}, "maxiter": 5}
    cells = expand_cells(normalize_config(cfg))
    monkeypatch.setattr(sweep_mod, "_build", lambda cell: (_ for _ in ()).throw(
        MemoryError("needs 7 GiB of memory")))
    pairs = sweep_mod._run_unit(cells, 1)
    for (key, text), c in zip(pairs, cells, strict=True):
        assert key == c["key"]
        (row,) = _rows_without_time(text)
        assert row[-2:] == ["-1", "MemoryError: needs 7 GiB of memory"]


def test_units_go_out_costliest_first():
    cfg = {"grid": {"problem": ["halfspace"], "dim": [3, 20], "n": [100, 5000],
                    "method": ["gd", "gdnp"]}, "maxiter": 10}
    units = sweep_mod._units(expand_cells(normalize_config(cfg)))
    ordered = sorted(units, key=sweep_mod._unit_cost, reverse=True)
    assert [(u[0]["dim"], u[0]["n"]) for u in ordered] == [(20, 5000), (3, 5000), (20, 100),
                                                           (3, 100)]


def test_loky_with_three_processes_equals_serial(tmp_path):
    cfg = {**GRID, "grid": {**GRID["grid"], "n": [300], "batch_size": [None]}}
    serial = run_sweep(cfg, tmp_path / "serial", jobs=1, progress=False)
    with _more_jobs_than_cpus(3):
        par = run_sweep(cfg, tmp_path / "loky", jobs=3, backend="loky", progress=False)
    assert par["ran"] == serial["ran"] == 24

    def table(out):
        return [tuple(v for k, v in r.items() if k != "time") for r in read_results(out)]

    assert table(tmp_path / "loky") == table(tmp_path / "serial")


def test_loky_runs_a_single_unit_in_this_process(tmp_path, monkeypatch):
    import joblib.executor

    def no_workers(*args, **kwargs):
        raise AssertionError("no worker process is needed for one unit")

    monkeypatch.setattr(joblib.executor, "get_memmapping_executor", no_workers)
    cfg = {"grid": {"problem": ["ols"], "dim": [3], "method": ["gd", "gdnp"]}, "maxiter": 5}
    assert run_sweep(cfg, tmp_path / "one", jobs=2, progress=False)["ran"] == 2


def test_loky_error_is_raised_and_releases_the_folder(tmp_path, monkeypatch):
    def broken(unit, blas_threads):
        raise RuntimeError("boom")

    # this process's thread fails (and the worker too: loky sends it the function by value)
    monkeypatch.setattr(sweep_mod, "_run_unit", broken)
    cfg = {"grid": {"problem": ["ols"], "dim": [3], "method": ["gd"], "seed": [0, 1, 2]},
           "maxiter": 5}
    thread_errors = []  # loky's threads must stop cleanly (the workers are killed)
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    with pytest.raises(RuntimeError, match="boom"):
        run_sweep(cfg, tmp_path / "e", jobs=2, progress=False)
    assert thread_errors == []
    assert not (tmp_path / "e" / ".gdnp-sweep.lock").exists()
    assert not list((tmp_path / "e" / "cells").glob("*.csv"))


def test_joblib_parallel_works_before_and_after_a_loky_sweep(tmp_path):
    from joblib import Parallel, delayed

    def squares():
        return Parallel(n_jobs=2)(delayed(pow)(i, 2) for i in range(4))

    cfg = {"grid": {"problem": ["ols"], "dim": [3], "method": ["gd"], "seed": [0, 1, 2]},
           "maxiter": 5}
    assert squares() == [0, 1, 4, 9]
    assert run_sweep(cfg, tmp_path / "a", jobs=2, progress=False)["ran"] == 3
    assert squares() == [0, 1, 4, 9]  # the executor the sweep used is joblib's own
    with _more_jobs_than_cpus(3):
        assert run_sweep(cfg, tmp_path / "b", jobs=3, progress=False)["ran"] == 3


def test_numpy_grids_and_options_are_plain_values():
    """np.logspace, range and numpy scalars in options are what a Python user passes: they
    become the plain numbers a cell's key and JSON hold (a numpy scalar had failed in
    json.dumps, an array had been 'one bad value')."""
    import numpy as np

    config = normalize_config({"kappa": np.logspace(1, 2, 2), "seed": range(2),
                               "options": {"gdnp": {"T_s": np.int64(30)}}})
    assert config["grid"]["kappa"] == [10.0, 100.0] and config["grid"]["seed"] == [0, 1]
    assert config["options"] == {"gdnp": {"T_s": 30}}
    assert type(config["options"]["gdnp"]["T_s"]) is int
    config = normalize_config({"kappa": np.array(10.0), "maxiter": np.int64(100),
                               "tol": np.float32(0.5)})
    assert config["grid"]["kappa"] == [10.0] and config["maxiter"] == 100


def test_option_names_are_checked_before_any_cell_runs():
    with pytest.raises(ValueError, match=r"options\['gdnp'\]: unknown option\(s\) \['T_z'\]"):
        normalize_config({"options": {"gdnp": {"T_z": 30}}})


def test_a_sweep_runs_the_built_in_losses_only():
    """A loss registered at run time is unknown to worker processes, and its name alone would
    key its cells (a redefined loss would resume with the old numbers): refused by name."""
    from gdnp.problems import LOSSES

    LOSSES["user_loss"] = LOSSES["logistic"]
    try:
        with pytest.raises(ValueError, match="'user_loss' is not a built-in loss"):
            normalize_config({"loss": "user_loss"})
    finally:
        del LOSSES["user_loss"]


def test_gd_and_agd_cells_are_not_repeated_over_the_bn_norms():
    """GD and AGD run in the original coordinates: over a grid of normalizations and BN
    epsilons their cells had repeated the same run (87 of 240 cells of a full grid)."""
    from gdnp.sweep import expand_cells, normalize_config

    config = normalize_config({"grid": {"problem": ["ols"], "n": [200],
                                        "method": ["gd", "agd", "bngd"],
                                        "normalization": ["batch", "weight", "l1"],
                                        "bn_eps": [0.0, 1e-3]}, "maxiter": 5})
    cells = expand_cells(config)
    per_method = {m: [c for c in cells if c["method"] == m] for m in ("gd", "agd", "bngd")}
    assert len(per_method["gd"]) == len(per_method["agd"]) == 1
    assert len(per_method["bngd"]) == 4  # batch with two epsilons, weight, l1
    assert len({c["key"] for c in cells}) == len(cells)


@pytest.mark.parametrize("grid, message", [
    ({"dim": [0]}, "grid key 'dim': an integer >= 1 is needed, got 0"),
    ({"seed": [-1]}, "grid key 'seed': an integer >= 0 is needed, got -1"),
])
def test_a_config_grid_is_refused_where_the_command_line_is(grid, message):
    """dim = 0 and negative seeds had run, failed and ended the sweep with exit 1."""
    from gdnp.sweep import normalize_config

    with pytest.raises(ValueError, match=message):
        normalize_config({"grid": {"problem": ["ols"], **grid}})


def test_a_config_file_with_a_bad_grid_or_tol_is_named(tmp_path, capsys):
    """A grid that is not a table had crashed sweep_main in dict() (a traceback, or an error
    naming nothing); tol = inf had failed in the JSON writer."""
    from gdnp.sweep import normalize_config, sweep_main

    for text in ('grid = "ols"\n', 'grid = [1, 2]\n'):
        cfg = tmp_path / "bad.toml"
        cfg.write_text(text)
        assert sweep_main([str(cfg), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
        assert "grid: a table of grid keys" in capsys.readouterr().err
    with pytest.raises(ValueError, match="tol must be a finite number >= 0, got inf"):
        normalize_config({"grid": {"problem": ["ols"]}, "tol": float("inf")})


def test_workers_are_started_with_ctrl_c_ignored():
    """A sweep's loky workers are started with SIGINT ignored (inherited, and Python then
    installs no KeyboardInterrupt handler), so a terminal's Ctrl-C reaches the sweep alone:
    a worker still importing had printed its own traceback. Elsewhere than the main thread
    nothing changes (signal handlers belong to it)."""
    import signal
    import threading

    from gdnp.sweep import _sigint_ignored

    before = signal.getsignal(signal.SIGINT)
    with _sigint_ignored():
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is before
    seen = []

    def other():
        with _sigint_ignored():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen == [before]


def test_grid_names_take_any_case():
    """Problem, loss, norm and statistics names take any case, as gdnp solve's and the
    methods' in a sweep already did ('OLS' had been refused as an unknown problem)."""
    from gdnp.sweep import normalize_config

    config = normalize_config({"grid": {"problem": ["OLS", "HalfSpace"], "loss": ["Logistic"],
                                        "normalization": ["WEIGHT"], "method": ["GDNP"],
                                        "statistics": ["POPULATION"], "batch_size": [8]}})
    grid = config["grid"]
    assert grid["problem"] == ["ols", "halfspace"] and grid["loss"] == ["logistic"]
    assert grid["normalization"] == ["weight"] and grid["statistics"] == ["population"]
    assert grid["method"] == ["gdnp"]
