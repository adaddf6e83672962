"""Figures (plots/): every registered figure in quick mode, asserting on the data it wrote."""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

import gdnp
from gdnp import plots
from gdnp.plots._io import read_tables_csv, write_tables_csv


@pytest.fixture(scope="module")
def quick_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("figs")
    results = plots.make_all(str(out), quick=True, progress=False)
    return str(out), {r["name"]: r for r in results}


def _data(out, name):
    return plots.load(out, name)


def _sel(tab, **eq):
    mask = np.ones(len(next(iter(tab.values()))), dtype=bool)
    for k, v in eq.items():
        col = tab[k]
        mask &= (col == v) if col.dtype == object else np.isclose(col.astype(float), v)
    return mask


def test_registry_names():
    for name in ["halfspace_kappa", "separation", "ols_kappa_dim", "lr_robustness",
                 "trajectories", "mlp", "real_data"]:
        assert name in plots.FIGURES


def test_every_figure_written(quick_dir):
    out, res = quick_dir
    for name in plots.FIGURES:
        r = res[name]
        assert "skipped" not in r, r
        for key in ("png", "csv", "json"):
            assert os.path.getsize(r[key]) > 0
        meta = json.load(open(r["json"]))
        assert meta["config"]["quick"] is True
        for pkg in ("numpy", "scipy", "matplotlib", "gdnp", "platform"):
            assert meta["versions"][pkg]
        assert meta["versions"]["gdnp"] == gdnp.__version__
        assert any("seed" in k for k in meta["seeds"])
        # no temporary files left behind by the atomic writes
        assert not [f for f in os.listdir(out) if f.endswith(".tmp")]


def test_halfspace_kappa_curves_bounds_and_order(quick_dir):
    out, _ = quick_dir
    d = _data(out, "halfspace_kappa")
    cur, bnd, fits = (d["tables"][k] for k in ("curves", "bounds", "fits"))
    assert set(d["config"]["kappas"]) == {1.0, 10.0, 100.0, 1000.0, 10000.0}
    for kappa in d["config"]["kappas"]:
        for m in ("gd", "agd", "gdnp"):
            for metric in ("gap", "grad_norm2"):
                sel = _sel(cur, kappa=kappa, method=m, metric=metric)
                # at kappa = 1 (S = I) GDNP's Rayleigh step solves the direction at once: its
                # gradient is exactly 0 at iteration 2 (status 0), so it has 3 points
                least = 3 if (m == "gdnp" and kappa == 1.0) else 11
                assert sel.sum() >= least and np.all(np.isfinite(cur["value"][sel]))
    # the K19 combined bound lies where its formula says, recomputed from the JSON
    for kappa in (10.0, 1000.0):
        info = d["results"]["per_kappa"][repr(kappa)]
        sel = np.flatnonzero(_sel(bnd, kappa=kappa, bound="k19_combined"))
        i = sel[len(sel) // 2]
        t = bnd["iter"][i]
        expect = gdnp.rates.k19_combined_bound(t, d["config"]["T_s"], info["mu"], info["L"],
                                               info["rho_gap0"], info["Phi"], info["zeta"],
                                               info["width0"])
        assert bnd["value"][i] == pytest.approx(float(expect), rel=1e-12)
        sel = np.flatnonzero(_sel(bnd, kappa=kappa, bound="gd_sublinear"))
        i = sel[-1]
        # 2 zeta (f0 - f*)/t on ||G||^2, divided by mu to bound ||G||^2_{S^-1}
        expect = 2 * info["zeta"] * info["gap0"] / bnd["iter"][i] / info["mu"]
        assert bnd["value"][i] == pytest.approx(expect, rel=1e-12)
    # no bound is violated by its method (the GD bound converted to the S^-1 norm)
    assert d["results"]["violations"] == []
    # GDNP's fitted order on the Gaussian halfspace is linear
    for kappa in (10.0, 100.0):
        sel = _sel(fits, kappa=kappa, method="gdnp")
        assert fits["kind"][sel][0] == "linear"
        assert 0 < fits["rate"][sel][0] < 1


def test_separation_cells(quick_dir):
    out, _ = quick_dir
    d = _data(out, "separation")
    cells = d["tables"]["cells"]
    n = len(d["config"]["kappas"]) * len(d["config"]["separations"]) * 2
    assert cells["iters"].size == n
    assert np.all(cells["iters"] <= d["config"]["maxiter"])
    cens = cells["censored"] > 0
    assert np.all(cells["iters"][cens] == d["config"]["maxiter"])
    # GDNP reaches the target gap at kappa = 1 in one direction step
    sel = _sel(cells, kappa=1.0, method="gdnp")
    assert np.all(cells["censored"][sel] == 0)


def test_ols_kappa_dim_theory(quick_dir):
    out, _ = quick_dir
    d = _data(out, "ols_kappa_dim")
    runs = d["tables"]["runs"]
    # in d = 2 C19's kappa* is 1 whatever kappa is
    assert np.allclose(runs["kappa_star"][_sel(runs, dim=2)], 1.0)
    assert np.all(runs["kappa_star"] <= runs["kappa_S"] * (1 + 1e-9))
    b = _sel(runs, method="bngd")
    assert np.all(np.isfinite(runs["bngd_pred_rate"][b]))
    assert np.all((runs["bngd_pred_rate"][b] >= 0) & (runs["bngd_pred_rate"][b] < 1))


def test_lr_robustness_divergence(quick_dir):
    out, _ = quick_dir
    d = _data(out, "lr_robustness")
    runs = d["tables"]["runs"]
    L = d["results"]["L"]
    lrs = np.asarray(d["config"]["lrs"])
    assert np.log10(lrs.max() / lrs.min()) >= 8
    for kappa in d["config"]["kappas"]:
        gd = _sel(runs, kappa=kappa, method="gd")
        bn = _sel(runs, kappa=kappa, method="bngd")
        big = runs["lr"] >= 2.0 / L
        assert np.all(runs["status"][gd & big] == 2)
        assert np.all(runs["diverged"][gd & big] == 1)
        assert np.all(runs["status"][gd & (runs["lr"] < 1.0 / L)] != 2)
        assert np.all(runs["status"][bn] != 2)
        assert np.all(np.isfinite(runs["gap"]))  # diverged runs keep their last finite gap


def test_trajectories_and_mlp(quick_dir):
    out, _ = quick_dir
    d = _data(out, "trajectories")
    path = d["tables"]["path"]
    for kappa in (10.0, 1000.0):
        for m in ("gd", "bngd", "gdnp"):
            sel = _sel(path, kappa=kappa, method=m)
            assert sel.sum() > 2
            assert np.all(np.isfinite(path["x1"][sel]) & np.isfinite(path["x2"][sel]))
    d = _data(out, "mlp")
    ang = d["tables"]["angles"]
    assert np.all((ang["angle_deg"] >= 0) & (ang["angle_deg"] <= 90))
    assert set(ang["method"]) == {"gd", "bngd", "gdnp"}
    assert np.all(d["tables"]["curves"]["gap"] >= 0)


def test_real_data(quick_dir):
    out, _ = quick_dir
    d = _data(out, "real_data")
    info = d["results"]["datasets"]
    assert info["breast_cancer_std"]["kappa"] > 1
    cur = d["tables"]["curves"]
    assert np.all(np.isfinite(cur["value"]))


def test_real_data_skipped_without_sklearn(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    r = plots.make_figure("real_data", str(tmp_path), quick=True)
    assert "scikit-learn" in r["skipped"]
    assert not os.listdir(tmp_path)


def test_redraw_without_solver(quick_dir, monkeypatch, tmp_path):
    out, _ = quick_dir

    def boom(*a, **k):
        raise AssertionError("redraw must not solve anything")

    monkeypatch.setattr(gdnp, "solve", boom)
    for name in plots.FIGURES:
        png = os.path.join(out, name + ".png")
        os.unlink(png)
        r = plots.redraw(out, name, pdf=name == "lr_robustness")
        assert os.path.getsize(r["png"]) > 0
    assert os.path.getsize(os.path.join(out, "lr_robustness.pdf")) > 0


def test_csv_roundtrip(tmp_path):
    tables = {"a": {"x": [1.0, 2.5e-300, np.nan], "name": ["gd", "b,c", "x"]},
              "b": {"x": [3], "k": [True]}}
    path = str(tmp_path / "t.csv")
    write_tables_csv(path, tables)
    back = read_tables_csv(path)
    assert back["a"]["x"][1] == 2.5e-300 and np.isnan(back["a"]["x"][2])
    assert list(back["a"]["name"]) == ["gd", "b,c", "x"]
    assert set(back["b"]) == {"x", "k"} and back["b"]["k"][0] == 1.0


def test_cli(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        plots.plots_main(["--only", "nope", "--out", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "nope" in err and "halfspace_kappa" in err
    rc = plots.plots_main(["--quick", "--only", "trajectories", "--pdf", "--out", str(tmp_path),
                           "--no-progress"])
    assert rc == 0
    for ext in ("png", "pdf", "csv", "json"):
        assert (tmp_path / f"trajectories.{ext}").stat().st_size > 0
    with pytest.raises(ValueError, match="known figures"):
        plots.make_figure("nope", str(tmp_path))


def test_normalization_figures(quick_dir):
    """batch_size, normalizations, spectra (theory guide §10-§12)."""
    out, _ = quick_dir
    C = _data(out, "spectra")["tables"]["conditions"]
    ols = _sel(C, problem="ols")
    # C19: at the OLS optimum the BN direction block has condition number kappa* exactly
    np.testing.assert_allclose(C["cond_bn"][ols], C["kappa_star"][ols], rtol=1e-8)
    np.testing.assert_allclose(C["cond_original"][ols], C["kappa"][ols], rtol=1e-8)
    # OLS GD rate (1 - 1/kappa)^2 per step, measured on the gap
    np.testing.assert_allclose(C["gd_rate_measured"][ols], C["gd_rate_predicted"][ols],
                               rtol=2e-3)
    assert np.all(C["cond_bn"] <= C["cond_original"] * (1 + 1e-9))  # interlacing
    R = _data(out, "normalizations")
    spread = R["results"]["gdnp_final_gap_spread"]
    assert max(spread.values()) < 0.05  # GDNP does not depend on the norm (to bisection)
    T = _data(out, "batch_size")["tables"]["runs"]
    n = _data(out, "batch_size")["config"]["n"]
    for prob in ("ols", "halfspace"):
        for method in ("bngd", "gd"):
            full = [T["final_gap"][_sel(T, problem=prob, method=method, statistics=s,
                                        batch_size=n)][0] for s in ("batch", "population")]
            assert full[0] == full[1]  # B = n: one batch, the full statistics
    assert np.all(T["status"] >= 0)
