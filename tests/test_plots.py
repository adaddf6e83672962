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
    results = plots.make_all(str(out), quick=True, progress=False, jobs=2)
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
    for name in ["rates_vs_kappa", "rates_vs_separation", "cost", "bngd_dynamics", "seed_ols",
                 "halfspace_kappa", "separation", "ols_kappa_dim", "lr_robustness",
                 "trajectories", "mlp", "real_data"]:
        assert name in plots.FIGURES
    assert next(iter(plots.FIGURES)) == "rates_vs_kappa"


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
    assert set(d["config"]["kappas"]) == {1.0, 100.0, 10000.0}
    for kappa in d["config"]["kappas"]:
        for m in ("gd", "agd", "gdnp"):
            for metric in ("gap", "grad_norm2"):
                sel = _sel(cur, kappa=kappa, method=m, metric=metric)
                done = fits["status"][_sel(fits, kappa=kappa, method=m)][0] == 0  # exact
                assert sel.sum() > (1 if done else 10)
                assert np.all(np.isfinite(cur["value"][sel]))
    # the K19 combined bound lies where its formula says, recomputed from the JSON
    for kappa in (100.0, 10000.0):
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
    # GDNP's fitted order on the Gaussian halfspace is linear, at or above K19's 1-(1-1/k)^2
    sel = _sel(fits, kappa=100.0, method="gdnp")
    assert fits["kind"][sel][0] == "linear"
    assert 1 - (1 - 1 / 100) ** 2 <= fits["one_minus_rate"][sel][0] < 1


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


@pytest.mark.parametrize("name", ["separation", "batch_size", "spectra"])
def test_pieces_on_the_pool_equal_the_figure_made_alone(quick_dir, tmp_path, name):
    """make_all ran the figure's pieces on two workers; make_figure runs them here, in
    order: the same data."""
    out, _ = quick_dir
    plots.make_figure(name, str(tmp_path), quick=True, n_jobs=1)
    with open(os.path.join(out, f"{name}.csv")) as a, \
            open(os.path.join(tmp_path, f"{name}.csv")) as b:
        assert a.read() == b.read()
    assert _data(out, name)["results"] == _data(str(tmp_path), name)["results"]


def _skipping_piece(piece):
    raise plots.FigureSkipped(f"piece {piece} cannot run here")


def test_parallel_figure_skipped_by_a_piece(tmp_path):
    from gdnp.plots._core import Parts, register

    parts = Parts(lambda cfg: [0, 1, 2], _skipping_piece, lambda cfg, results: {})
    register("_skips", "a figure whose pieces skip", lambda quick: {"seed": 0}, None,
             lambda data: None, parts=parts)
    try:
        out = plots.make_all(str(tmp_path), quick=True, only=["_skips", "trajectories"],
                             progress=False, jobs=2)
    finally:
        plots.FIGURES.pop("_skips")
    assert "cannot run here" in out[0]["skipped"]
    assert os.path.getsize(out[1]["png"]) > 0
    assert not [f for f in os.listdir(tmp_path) if f.startswith("_skips")]


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
    rc = plots.plots_main(["--quick", "--only", "trajectories", "--pdf", "--svg", "--out",
                           str(tmp_path), "--no-progress", "--jobs", "1"])
    assert rc == 0
    for ext in ("png", "pdf", "svg", "csv", "json"):
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


# ----------------------------------------------------------------------------- new figures
def test_rates_vs_kappa(quick_dir):
    out, _ = quick_dir
    d = _data(out, "rates_vs_kappa")
    runs, res = d["tables"]["runs"], d["results"]
    # GDNP on OLS contracts like K19's (1 - 1/kappa)^2 (K19: GDNP is GD's order on OLS)
    sel = _sel(runs, problem="ols", kappa=10.0, method="gdnp")
    assert runs["kind"][sel][0] == "linear"
    assert runs["one_minus_rate"][sel][0] == pytest.approx(1 - 0.9**2, rel=0.05)
    # every rate in the table comes with its window and a standard error
    ok = runs["kind"] == "linear"
    assert np.all(runs["window_end"][ok] > runs["window_start"][ok])
    assert np.all(runs["one_minus_rate_se"][ok] >= 0)
    for key in ("ols_gdnp_1mr_kappa_10", "halfspace_gdnp_1mr_kappa_100", "ols_gd_slope"):
        assert key in res
    # C19's best BNGD rate is drawn from kappa*, which is <= kappa
    assert np.all(runs["kappa_star"] <= runs["kappa_S"] * (1 + 1e-9))


def test_rates_vs_separation_local_rate(quick_dir):
    out, _ = quick_dir
    d = _data(out, "rates_vs_separation")
    runs = d["tables"]["runs"]
    gd = _sel(runs, method="gd")
    c, pred = runs["separation"][gd], runs["gd_pred_1mr"][gd]
    order = np.argsort(c)
    assert np.all(np.diff(pred[order]) < 0)  # GD's local rate collapses as c -> 1
    # at c = 0.5 GD is in its local regime: measured 1 - r is the Hessian's prediction
    sel = gd & _sel(runs, separation=0.5)
    assert runs["one_minus_rate"][sel][0] == pytest.approx(runs["gd_pred_1mr"][sel][0],
                                                           rel=0.05)


def test_local_hessian_matches_finite_differences():
    from gdnp.plots.figs_rates import local_hessian
    from gdnp.problems import Halfspace

    p = Halfspace.random(4, 10.0, separation=0.7, seed=3)
    w = np.asarray(p.solution()[0])
    H = local_hessian(p, w, 201)
    h = 1e-5 * max(1.0, np.linalg.norm(w))
    Hfd = np.column_stack([(p.grad(w + h * e) - p.grad(w - h * e)) / (2 * h)
                           for e in np.eye(4)])
    # central differences: O(h^2) truncation, O(eps/h) rounding
    assert np.max(np.abs(H - Hfd)) <= 1e-7 * np.max(np.abs(H))


def test_cost_counts_bisection_passes(quick_dir):
    out, _ = quick_dir
    d = _data(out, "cost")
    res, cfg = d["results"], d["config"]
    # GDNP: one value_and_grad and up to T_s evaluations of d_g f per iteration
    assert 2 < res["gdnp_passes_per_iter"] <= cfg["T_s"] + 1
    assert res["gd_passes_per_iter"] == pytest.approx(1.0)
    cur = d["tables"]["curves"]
    assert set(cur["method"]) == {"gd", "agd", "gdnp", "lbfgs"}
    assert res["lbfgs_final_rel_gap"] < res["gd_final_rel_gap"]


def test_bngd_dynamics(quick_dir):
    out, _ = quick_dir
    d = _data(out, "bngd_dynamics")
    cur = d["tables"]["curves"]
    for lr in d["config"]["lr_over_L"]:
        s = _sel(cur, lr_rel=lr)
        # ||w_k|| never decreases (theory guide §1), so the effective step never increases
        assert np.all(np.diff(cur["w_norm"][s]) >= -1e-12 * cur["w_norm"][s][1:])
        assert np.all(np.diff(cur["eps_hat"][s]) <= 1e-12 * cur["eps_hat"][s][1:])
    # a larger direction rate ends with a larger ||w|| and a smaller effective step
    ends = [cur["eps_hat"][_sel(cur, lr_rel=lr)][-1] for lr in d["config"]["lr_over_L"]]
    assert ends[-1] < ends[0]


def test_seed_ols(quick_dir):
    out, _ = quick_dir
    res = _data(out, "seed_ols")["results"]
    # d = 2: kappa* = 1, so tuned BNGD hardly depends on kappa; tuned GD does
    b10, b1000 = res["d2_kappa10_bngd_best_iters"], res["d2_kappa1000_bngd_best_iters"]
    assert b1000 <= 3 * b10 and not res["d2_kappa1000_bngd_best_censored"]
    g10, g1000 = res["d2_kappa10_gd_best_iters"], res["d2_kappa1000_gd_best_iters"]
    assert g1000 >= 3 * g10
    # the tuned rate is never worse than the default
    for key, v in res.items():
        if key.endswith("_best_iters"):
            assert v <= res[key.replace("_best_", "_default_")]


# ----------------------------------------------------------------------------- style
def _method_of(line):
    from matplotlib.colors import to_hex

    from gdnp.plots.style import METHOD_STYLE

    try:
        col = to_hex(line.get_color())
    except ValueError:
        return None
    for m, st in METHOD_STYLE.items():
        if col == to_hex(st["color"]) and line.get_marker() == st["marker"]:
            return m
    return None


def test_every_figure_separable_in_greyscale_and_legible(quick_dir):
    """Each method: one marker and one line style everywhere; across methods distinct markers,
    line styles and grey levels; print width 3.5 or 7 in; no text under 9 pt."""
    import matplotlib.pyplot as plt

    from gdnp.plots._core import render
    from gdnp.plots.style import grey_level

    out, _ = quick_dir
    for name in plots.FIGURES:
        fig = render(name, _data(out, name))
        try:
            assert fig.get_size_inches()[0] in (3.5, 7.0), name
            for t in fig.findobj(plt.Text):
                if t.get_text().strip() and t.get_visible():
                    assert t.get_fontsize() >= 9, (name, t.get_text(), t.get_fontsize())
            seen: dict[str, set] = {}
            for ax in fig.axes:
                for line in ax.get_lines():
                    m = _method_of(line)
                    if m is None:
                        continue
                    ls = line.get_linestyle()
                    # the dash pattern itself: get_linestyle() says "--" for any dashes
                    dash = repr(getattr(line, "_unscaled_dash_pattern", ls))
                    seen.setdefault(m, set()).add((line.get_marker(),
                                                   None if ls in ("None", "") else dash))
            if len(seen) < 2:
                continue
            styles = {}
            for m, ss in seen.items():
                markers = {mk for mk, _ in ss}
                lss = {ls for _, ls in ss if ls is not None}
                assert len(markers) == 1 and len(lss) <= 1, (name, m, ss)
                styles[m] = (markers.pop(), lss.pop() if lss else None)
            ms = list(styles)
            for i, a in enumerate(ms):
                for b in ms[i + 1:]:
                    assert styles[a][0] != styles[b][0], (name, a, b)
                    if styles[a][1] is not None and styles[b][1] is not None:
                        assert styles[a][1] != styles[b][1], (name, a, b)
                    ga = grey_level(plots.style.METHOD_STYLE[a]["color"])
                    gb = grey_level(plots.style.METHOD_STYLE[b]["color"])
                    assert abs(ga - gb) >= 0.15, (name, a, b, ga, gb)
        finally:
            plt.close(fig)


def test_every_figure_fits_its_print_width(quick_dir):
    """Nothing of any figure lies outside it (a long title is wrapped, a wide legend gets
    fewer columns), and its PNG is exactly the print size at the saved dpi: 3.5 or 7 in
    wide, never widened or cropped."""
    import matplotlib.image
    import matplotlib.pyplot as plt

    from gdnp.plots._core import render
    from gdnp.plots.style import RC

    out, _ = quick_dir
    dpi = RC["savefig.dpi"]
    for name in plots.FIGURES:
        fig = render(name, _data(out, name))
        try:
            width, height = fig.get_size_inches()
            fig.canvas.draw()
            box = fig.get_tightbbox(fig.canvas.get_renderer())
            assert box.x0 >= -0.01 and box.y0 >= -0.01, (name, box)
            assert box.x1 <= width + 0.01 and box.y1 <= height + 0.01, (name, box)
        finally:
            plt.close(fig)
        png = matplotlib.image.imread(os.path.join(out, f"{name}.png"))
        assert png.shape[:2] == (round(height * dpi), round(width * dpi)), (name, png.shape)


def test_make_figure_runs_a_variant_configuration(tmp_path):
    """The documented variant workflow: change the quick configuration, make, load, render."""
    from gdnp.plots import FIGURES, load, make_figure

    config = FIGURES["trajectories"].config(True)
    config["steps"] = 12  # a variant: shorter paths
    out = make_figure("trajectories", str(tmp_path), config=config)
    data = load(str(tmp_path), "trajectories")
    assert data["config"]["steps"] == 12 and out["png"].endswith(".png")
    assert max(data["tables"]["path"]["iter"]) == 12
    assert FIGURES["trajectories"].render(data) is not None
    with pytest.raises(ValueError, match="no setting"):
        make_figure("trajectories", str(tmp_path), config={"not_a_setting": 1})
    with pytest.raises(TypeError, match="config must be a dict"):
        make_figure("trajectories", str(tmp_path), config=[1])


def test_show_figure_without_out_dir_leaves_no_folder(tmp_path, monkeypatch, capsys):
    import tempfile

    from gdnp.plots import show_figure

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where its temporary folder goes
    data = show_figure("trajectories", quick=True)
    assert sorted(data["tables"]) == ["curves", "grid", "path"]
    assert list(tmp_path.iterdir()) == []
    assert "pass out_dir= to keep the files" in capsys.readouterr().out


def test_log_thinning_keeps_every_early_record_and_the_last():
    from gdnp.plots._core import thin

    idx = thin(4001, 400, log=True)
    assert idx.size <= 400 and idx[0] == 0 and idx[-1] == 4000
    assert list(idx[:10]) == list(range(10))  # a log axis shows the first steps
    np.testing.assert_array_equal(thin(50, 400, log=True), np.arange(50))


def test_figure_files_are_replaced_as_a_set_and_reproducible(tmp_path):
    """A rerun without --pdf removes the earlier PDF (no stale image beside new data), no
    scratch folder is left, the JSON lists the formats written, and the same data give the
    same PDF and SVG bytes (no creation date, fixed SVG ids)."""
    out = str(tmp_path)
    plots.make_figure("trajectories", out, quick=True, pdf=True, svg=True)
    first = {k: open(os.path.join(out, f"trajectories.{k}"), "rb").read()
             for k in ("pdf", "svg")}
    plots.make_figure("trajectories", out, quick=True, pdf=True, svg=True)
    for k, data in first.items():
        assert open(os.path.join(out, f"trajectories.{k}"), "rb").read() == data, k
    plots.make_figure("trajectories", out, quick=True)
    assert sorted(os.listdir(out)) == ["trajectories.csv", "trajectories.json",
                                       "trajectories.png"]
    with open(os.path.join(out, "trajectories.json")) as fh:
        assert json.load(fh)["formats"] == ["png"]


def test_redraw_keeps_one_rendering_and_lists_its_formats(tmp_path):
    """redraw(pdf=True) adds the PDF to the JSON's formats; a later redraw without it removes
    the PDF (drawn in the earlier style) and the JSON says so; the data are not touched."""
    out = str(tmp_path)
    plots.make_figure("trajectories", out, quick=True)
    json_path = os.path.join(out, "trajectories.json")
    before = json.load(open(json_path))
    plots.redraw(out, "trajectories", pdf=True)
    after = json.load(open(json_path))
    assert after["formats"] == ["png", "pdf"]
    assert os.path.isfile(os.path.join(out, "trajectories.pdf"))
    assert {k: v for k, v in after.items() if k != "formats"} == \
        {k: v for k, v in before.items() if k != "formats"}
    plots.redraw(out, "trajectories")
    assert json.load(open(json_path))["formats"] == ["png"]
    assert sorted(os.listdir(out)) == ["trajectories.csv", "trajectories.json",
                                       "trajectories.png"]


def test_figure_removes_the_scratch_a_killed_run_left(tmp_path):
    """A figure killed mid-write leaves its scratch folder and a temporary file (named by host
    and process); the next figure written there removes them, and nothing else."""
    import subprocess
    import sys

    from gdnp._io import scratch_prefix

    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)
    prefix = scratch_prefix("trajectories").replace(f"-{os.getpid()}.", f"-{dead}.")
    (tmp_path / (prefix + "a1b2c3d4")).mkdir()
    (tmp_path / (prefix + "a1b2c3d4") / "trajectories.png").write_bytes(b"half")
    (tmp_path / (prefix + "e5f6g7h8.tmp")).write_bytes(b"half")
    (tmp_path / "notes.txt").write_text("mine")
    import time

    old = time.time() - 7200.0  # (a recent one may be a live run's in another namespace)
    for name in (prefix + "a1b2c3d4", prefix + "e5f6g7h8.tmp"):
        os.utime(tmp_path / name, (old, old))
    plots.make_figure("trajectories", str(tmp_path), quick=True)
    assert sorted(os.listdir(tmp_path)) == ["notes.txt", "trajectories.csv",
                                            "trajectories.json", "trajectories.png"]


def test_plots_leave_the_users_matplotlib_backend_alone(tmp_path):
    """Figures are drawn on Figure objects outside pyplot: importing gdnp.plots and making a
    figure neither switches the backend nor leaves pyplot figures open."""
    import subprocess

    code = ("import matplotlib; matplotlib.use('pdf'); import matplotlib.pyplot as plt; "
            "from gdnp import plots; "
            f"plots.make_figure('trajectories', {str(tmp_path)!r}, quick=True); "
            "print(matplotlib.get_backend(), plt.get_fignums())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["pdf", "[]"]


def test_load_and_redraw_name_the_figure_and_a_swapped_call(tmp_path):
    out = str(tmp_path)
    plots.make_figure("trajectories", out, quick=True)
    with pytest.raises(ValueError, match=r"arguments are swapped; call load\('.*', "
                       r"'trajectories'\)"):
        plots.load("trajectories", out)
    with pytest.raises(ValueError, match=r"arguments are swapped; call redraw\('.*', "
                       r"'trajectories'\)"):
        plots.redraw("trajectories", out)
    with pytest.raises(FileNotFoundError, match="no data of figure 'mlp'"):
        plots.load(out, "mlp")


def test_make_figure_says_when_its_arguments_are_swapped(tmp_path):
    with pytest.raises(ValueError, match=r"arguments are swapped; call "
                       r"make_figure\('trajectories', "):
        plots.make_figure(str(tmp_path), "trajectories", quick=True)


def test_a_users_figure_gets_its_tables_back_as_written(tmp_path):
    """Text stays text (even '007' or '1e3'), None is NaN in a numeric column (it had turned
    the column into strings, which matplotlib plots as categories), an empty table survives;
    a name is not silently replaced; a configuration JSON cannot hold is refused before the
    run."""
    from matplotlib.figure import Figure

    seen = {}

    def compute(config):
        return {"tables": {"main": {"x": [1, 2, 3], "y": [1.5, None, 2.5],
                                    "label": ["007", "010", "1e3"]}, "events": {"t": []}},
                "results": {}}

    def render(data):
        seen.update(data["tables"])
        return Figure()

    import enum

    class Method(enum.Enum):
        GD = "gd"

    def compute(config):  # noqa: F811 (with a column of objects: text, by their str)
        return {"tables": {"main": {"x": [1, 2, 3], "y": [1.5, None, 2.5],
                                    "label": ["007", "010", "1e3"],
                                    "method": [Method.GD] * 3}, "events": {"t": []}},
                "results": {}}

    plots.register("user_roundtrip", "round trip", lambda quick: {"n": 3}, compute, render)
    try:
        plots.make_figure("user_roundtrip", str(tmp_path))
        assert list(seen["main"]["label"]) == ["007", "010", "1e3"]
        assert seen["main"]["y"].dtype == float and np.isnan(seen["main"]["y"][1])
        assert seen["events"]["t"].size == 0
        assert list(seen["main"]["method"]) == ["Method.GD"] * 3
        with pytest.raises(ValueError, match="already registered"):
            plots.register("user_roundtrip", "again", lambda quick: {}, compute, render)
        with pytest.raises(TypeError, match="config: the figure's configuration must be JSON"):
            plots.make_figure("user_roundtrip", str(tmp_path), config={"n": object()})
    finally:
        del plots.FIGURES["user_roundtrip"]


def test_one_figure_with_pieces_runs_them_on_the_pool_with_the_same_data(tmp_path):
    """--only NAME --jobs 2 runs a figure's pieces on two workers (it had run serially), and
    its data are those of the serial run."""
    from gdnp.plots import make_all

    serial, pooled = str(tmp_path / "serial"), str(tmp_path / "pooled")
    make_all(serial, quick=True, only="rates_vs_kappa", progress=False, jobs=1)
    make_all(pooled, quick=True, only="rates_vs_kappa", progress=False, jobs=2)
    assert open(os.path.join(serial, "rates_vs_kappa.csv")).read() == \
        open(os.path.join(pooled, "rates_vs_kappa.csv")).read()


def test_rate_fits_stop_above_the_objectives_own_rounding():
    """At separation 0.99 (f* ~ 3.5e-12) the population objective's evaluation noise near x* is
    ~5e3 ulp of f*, above the 1e3-ulp floor; fitted into that noise, GDNP's three runs had been
    labelled linear, sublinear and undetermined by the last bits of the machine's exp. Above
    four times the measured noise all three are linear, at the rate of the other separations."""
    from gdnp.plots._core import evaluation_noise, gap_floor
    from gdnp.plots.figs_rates import _rs_run, rs_config
    from gdnp.problems import OLS, Halfspace

    eps = np.finfo(float).eps
    p = Halfspace.random(10, 10.0, separation=0.99, seed=0)
    x_star, f_star = p.solution()
    noise = evaluation_noise(p, x_star)
    assert noise > 1e3 * eps * f_star  # the plain 1e3-ulp floor is inside the noise here
    assert gap_floor(f_star, noise) == 4.0 * noise
    q = OLS.random(5, 10.0, seed=0)  # sufficient statistics: f is quiet, the 1e3 ulp stand
    assert gap_floor(q.solution()[1], evaluation_noise(q, q.solution()[0])) == gap_floor(
        q.solution()[1])
    cfg = rs_config(False)
    rows = [_rs_run((cfg, 0.99, seed, "gdnp")) for seed in cfg["seeds"]]
    assert [r["kind"] for r in rows] == ["linear"] * 3
    assert all(r["floor"] >= 4.0 * r["f_noise"] for r in rows)
    assert all(abs(r["one_minus_rate"] - 0.1983) < 0.005 for r in rows)


def test_gallery_texts_state_only_numbers_of_their_figures_data():
    """Every number in a gallery script's prose (its docstring and comments, outside
    ``:math:`` formulas) is a number of its committed figure's configuration, results or small
    tables (<= 200 rows), at its printed precision: the "What to see" texts had gone stale with
    nothing to notice."""
    import glob
    import json
    import re
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "tests"))
    import readme_numbers as rn

    from gdnp.plots._io import read_tables_csv

    scripts = sorted(glob.glob(str(root / "examples" / "figures" / "plot_*.py")))
    assert len(scripts) == 15
    for path in scripts:
        src = Path(path).read_text(encoding="utf-8")
        name = re.search(r'NAME = "(\w+)"', src).group(1)
        prose = src.split('"""')[1] + "\n".join(
            line[1:] for line in src.splitlines() if line.startswith("#"))
        prose = re.sub(r":(?:ref|math):`[^`]*`", " ", prose)
        fig = root / "docs" / "figures"
        data = json.loads((fig / f"{name}.json").read_text(encoding="utf-8"))
        tables = read_tables_csv(str(fig / f"{name}.csv"), data.get("schema"))
        small = {k: {c: list(v) for c, v in t.items()} for k, t in tables.items()
                 if len(next(iter(t.values()), [])) <= 200}
        assert rn.unmatched_numbers(prose, [data["config"], data["results"], small]) == [], name


def test_shade_floor_leaves_autoscaling_to_the_curves():
    """The rounding-floor band reaches 1e-300 but does not stretch the y-axis (it had set the
    limits to 1e-314 .. 1e14 on a user's own figure)."""
    from gdnp.plots import style

    for before in (True, False):
        fig, axes = style.figure("single")
        ax = axes[0, 0]
        ax.set_yscale("log")
        if before:
            ax.plot(np.arange(10), 10.0 ** -np.arange(10))
        style.shade_floor(ax, 1e-12)
        if not before:
            ax.plot(np.arange(10), 10.0 ** -np.arange(10))
        lo, hi = ax.get_ylim()
        assert 1e-11 < lo < 1e-9 and 1.0 < hi < 10.0


def test_jobs_1_makes_figures_in_this_process(tmp_path, monkeypatch):
    """--jobs 1 runs each figure serially in this process (it had started each figure's own
    pool of two workers) and records n_jobs = 1."""
    import json

    import gdnp.plots._core as core
    from gdnp.plots import make_all

    calls = []
    real = core.pmap
    monkeypatch.setattr(core, "pmap", lambda fn, items, n_jobs=1: (
        calls.append(n_jobs), real(fn, items, n_jobs))[1])
    # bngd_dynamics: full size (its configuration asks for two workers), a fraction of a second
    make_all(str(tmp_path), only=["bngd_dynamics"], progress=False, jobs=1)
    config = json.loads((tmp_path / "bngd_dynamics.json").read_text())["config"]
    assert config["n_jobs"] == 1 and calls and all(n == 1 for n in calls)


def test_a_csv_and_json_of_different_runs_are_refused(tmp_path):
    """The JSON records its CSV's SHA-256: a CSV from another run beside it (what a run
    killed between moving the two leaves) is refused by load and redraw instead of being read
    as one figure."""
    from gdnp.plots import load, make_figure

    a, b = tmp_path / "a", tmp_path / "b"
    make_figure("trajectories", str(a), quick=True)
    make_figure("trajectories", str(b), quick=False)
    load(str(a), "trajectories")  # a consistent pair loads
    (a / "trajectories.csv").write_bytes((b / "trajectories.csv").read_bytes())
    with pytest.raises(ValueError, match="not the CSV its JSON was written with"):
        load(str(a), "trajectories")
