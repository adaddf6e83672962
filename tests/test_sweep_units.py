"""``gdnp sweep``: cells sharing a problem (units) and the loky scheduling (fast)."""

from __future__ import annotations

import gdnp.sweep as sweep_mod
from gdnp.sweep import check_cell, expand_cells, normalize_config, run_cell

GRID = {"grid": {"problem": ["ols", "halfspace"], "kappa": [10, 100], "dim": [4],
                 "n": [None, 300], "method": ["gd", "gdnp", "bngd"], "seed": [0, 1],
                 "batch_size": [None, 64]},
        "maxiter": 15, "options": {"gdnp": {"T_s": 10}}}


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
