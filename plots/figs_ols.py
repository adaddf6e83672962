"""OLS figures: ``ols_kappa_dim``, ``lr_robustness`` and ``trajectories`` (theory guide §2, §7)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ._core import Parts, fit_row, flatten, gap_floor, register, run_solver, runs_in_turn
from .figs_halfspace import _rows
from .style import (
    FLOOR_LABEL,
    figure,
    figure_legend,
    linear_over_a_decade,
    method_kw,
    shade_floor,
    theory_kw,
)


def _ols(cfg, d, kappa):
    from gdnp.problems import OLS

    return OLS.random(d, kappa, seed=cfg["problem_seed"], noise=cfg["noise"])


# ============================================================================ ols_kappa_dim
def kd_config(quick: bool) -> dict:
    return {"dims": [2, 3, 20] if quick else [2, 3, 100],
            "kappas": [10.0, 100.0] if quick else [10.0, 100.0, 1000.0, 10000.0],
            "methods": ["gd", "gdnp", "bngd"], "maxiter": 150 if quick else 3000,
            "gdnp_length": "closed_form", "noise": 0.1, "problem_seed": 0, "solver_seed": 0,
            "n_jobs": 1 if quick else 2}


def _kd_run(args):
    import gdnp

    cfg, d, kappa, method = args
    p = _ols(cfg, d, kappa)
    x_star, f_star = p.solution()
    opts = {"length": cfg["gdnp_length"]} if method == "gdnp" else {}
    r = run_solver(p, method, cfg["maxiter"], seed=cfg["solver_seed"], **opts)
    h = r["history"]
    fit = gdnp.rates.fit_order(h["iter"], h["gap"], floor=gap_floor(f_star))
    row = {"dim": d, "kappa": kappa, "method": method, **fit_row(fit),
           "final_gap": float(h["gap"][-1]),
           "status": r["status"], "kappa_S": p.kappa, "mu": p.mu, "L": p.L,
           "kappa_star": gdnp.rates.kappa_star(p.S, x_star), "bngd_lr": np.nan,
           "bngd_pred_rate": np.nan, "bngd_best_rate": np.nan}
    row["bngd_best_rate"] = gdnp.rates.bngd_best_rate(row["kappa_star"])
    if method == "bngd":
        w_inf = np.asarray(r["direction"], dtype=float)
        row["bngd_lr"] = float(r["lr"])
        row["bngd_pred_rate"] = gdnp.rates.bngd_rate(p.S, x_star, w_inf, r["lr"])
    return row


def kd_split(cfg: dict) -> list:
    """One piece per run (dimension, kappa, method)."""
    return [(cfg, d, k, m) for d in cfg["dims"] for k in cfg["kappas"] for m in cfg["methods"]]


def _kd_weight(piece) -> float:
    """A run costs about its dimension's matrix-vector products (d = 100 dominates)."""
    return 1.0 + piece[1] / 10.0


def kd_join(cfg: dict, rows: list) -> dict:
    cols = list(rows[0])
    return {"tables": {"runs": {c: [r[c] for r in rows] for c in cols}},
            "results": {"note": "rate = fitted per-iteration contraction of f - f*; "
                        "predictions: GD (1-1/kappa)^2 (step 1/(2L), slowest eigenvector), "
                        "K19 (1-mu/L)^2, BNGD r^2 with r = bngd_rate(S, w*, w_inf, lr)"}}


def kd_render(data: dict) -> plt.Figure:
    cfg, tab = data["config"], data["tables"]["runs"]
    dims = cfg["dims"]
    fig, axes = figure("double", 5.2, 2, len(dims), sharex=True)
    K = np.array(cfg["kappas"], dtype=float)
    for j, d in enumerate(dims):
        ax = axes[0, j]
        kap_S = np.array([tab["kappa_S"][_rows(tab, dim=d, kappa=k, method="gd")][0]
                          for k in K])
        ax.loglog(K, 1 - (1 - 1 / kap_S) ** 2, **theory_kw(0, r"GD / K19: $1-(1-1/\kappa)^2$"))
        sel = _rows(tab, dim=d, method="bngd")
        ax.loglog(tab["kappa"][sel], 1 - tab["bngd_pred_rate"][sel] ** 2,
                  **theory_kw(1, r"C19 BNGD: $1-r^2$ (run's $\varepsilon$, $w_\infty$)"))
        ax.loglog(tab["kappa"][sel], 1 - tab["bngd_best_rate"][sel] ** 2,
                  **theory_kw(2, r"C19 best: $1-r_*^2$, $r_*=\frac{\kappa^*-1}{\kappa^*+1}$"))
        for m in cfg["methods"]:
            sel = _rows(tab, dim=d, method=m)
            k, v = tab["kappa"][sel], tab["one_minus_rate"][sel]
            ok = np.isfinite(v) & (v > 0)
            decades = tab.get("decades")  # (absent from data of earlier versions)
            lin = ok & linear_over_a_decade(tab["kind"][sel],
                                            None if decades is None else decades[sel])
            kw = method_kw(m, ls="none", ms=6)
            ax.loglog(k[ok], v[ok], **kw)  # hollow: the fitter did not say linear
            ax.loglog(k[lin], v[lin], **{**kw, "mfc": kw["color"], "label": "_linear"})
        ax.set_title(f"d = {d}")
        if j == 0:
            ax.set_ylabel(r"$1 - r$ of $f - f^*$")
        ax2 = axes[1, j]
        ks = np.array([tab["kappa_star"][_rows(tab, dim=d, kappa=k, method="gd")][0] for k in K])
        ax2.loglog(K, kap_S, **theory_kw(3, r"$\kappa$"))
        ax2.loglog(K, ks, **method_kw("bngd", label=r"C19 $\kappa^*$", mfc="#BB5566"))
        ax2.set_xlabel(r"$\kappa$")
        if j == 0:
            ax2.set_ylabel("condition number")
    figure_legend(fig, axes, ncol=3)
    fig.suptitle(f"OLS ({cfg['maxiter']} iterations): filled = linear over >= 1 decade, "
                 "hollow = not (linear-fit 1 - r drawn)")
    return fig


register("ols_kappa_dim", "OLS across kappa and dimension: GD, GDNP, BNGD, C19's kappa*",
         kd_config, None, kd_render, cost=10, parts=Parts(kd_split, _kd_run, kd_join, _kd_weight))


# ============================================================================ lr_robustness
def lr_config(quick: bool) -> dict:
    return {"dim": 5 if quick else 10, "kappas": [100.0, 1000.0],
            "lrs": np.logspace(-4, 5, 10 if quick else 37).tolist(), "steps": 60 if quick else 500,
            "methods": ["gd", "bngd"], "noise": 0.1, "problem_seed": 0, "solver_seed": 0,
            "n_jobs": 1 if quick else 2}


def _lr_run(args):
    cfg, kappa, method, lr = args
    p = _ols(cfg, cfg["dim"], kappa)
    r = run_solver(p, method, cfg["steps"], seed=cfg["solver_seed"], lr=lr)
    gaps = r["history"]["gap"]
    return {"kappa": kappa, "method": method, "lr": lr, "status": r["status"],
            "diverged": int(r["status"] == 2), "gap": float(gaps[-1]),
            "last_iter": int(r["history"]["iter"][-1]), "gap0": float(gaps[0]), "L": p.L}


def lr_split(cfg: dict) -> list:
    """One piece per (kappa, method): its runs over the rate grid."""
    return [[(cfg, k, m, lr) for lr in cfg["lrs"]] for k in cfg["kappas"]
            for m in cfg["methods"]]


def lr_join(cfg: dict, results: list) -> dict:
    rows = flatten(results)
    cols = list(rows[0])
    return {"tables": {"runs": {c: [r[c] for r in rows] for c in cols}},
            "results": {"L": rows[0]["L"], "note": "gap = f - f* after `steps` steps; for a "
                        "diverged run (status 2) the last finite gap and its iteration"}}


def lr_render(data: dict) -> plt.Figure:
    cfg, tab = data["config"], data["tables"]["runs"]
    L = float(data["results"]["L"])
    fig, axes = figure("double", 3.2, 1, len(cfg["kappas"]), sharey=True)
    for ax, kappa in zip(axes[0], cfg["kappas"], strict=True):
        sel_k = _rows(tab, kappa=kappa)
        finite = tab["gap"][sel_k & (tab["diverged"] == 0)]
        top = 10 ** np.ceil(np.log10(max(np.nanmax(np.abs(finite)), 1e-300)) + 1)
        for m in cfg["methods"]:
            sel = sel_k & _rows(tab, method=m)
            lr, gap, div = tab["lr"][sel], tab["gap"][sel], tab["diverged"][sel] > 0
            g = np.where(div, np.nan, np.maximum(gap, 1e-300))
            ax.loglog(lr, g, **method_kw(m))
            if div.any():
                kw = method_kw(m, label=f"{method_kw(m)['label']} diverged (drawn at top)")
                ax.loglog(lr[div], np.full(div.sum(), top), **{**kw, "ls": "none",
                                                                "marker": "x", "ms": 6},
                          clip_on=False)
        ax.axvline(1 / L, **theory_kw(0, "GD stability limit 1/L"))
        ax.set_title(rf"OLS, $\kappa$ = {kappa:g}, d = {cfg['dim']}")
        ax.set_xlabel("learning rate (BNGD: direction rate $\\varepsilon$)")
    axes[0, 0].set_ylabel(f"$f - f^*$ after {cfg['steps']} steps")
    figure_legend(fig, axes, ncol=3)
    fig.suptitle("C19: robustness to the learning rate (BNGD length rate at its default)")
    return fig


register("lr_robustness", "Loss after a fixed budget vs learning rate (GD vs BNGD)",
         lr_config, None, lr_render, cost=4, parts=Parts(lr_split, runs_in_turn(_lr_run), lr_join))


# ============================================================================ trajectories
def traj_config(quick: bool) -> dict:
    return {"kappas": [10.0, 1000.0], "methods": ["gd", "bngd", "gdnp"],
            "steps": 30 if quick else 300, "grid": 40 if quick else 120, "noise": 0.1,
            "problem_seed": 0, "solver_seed": 0, "x0_offset": [-1.5, 1.0]}


def traj_compute(cfg: dict) -> dict:
    path = {"kappa": [], "method": [], "iter": [], "x1": [], "x2": []}
    curves = {"kappa": [], "method": [], "iter": [], "gap": []}
    grid = {"kappa": [], "x1": [], "x2": [], "gap": []}
    results = {}
    for kappa in cfg["kappas"]:
        p = _ols(cfg, 2, kappa)
        x_star, f_star = p.solution()
        x0 = x_star + np.asarray(cfg["x0_offset"]) * max(np.linalg.norm(x_star), 1.0)
        pts = [x0]
        results[repr(kappa)] = {"x_star": x_star, "f_star": f_star, "x0": x0}
        for m in cfg["methods"]:
            r = run_solver(p, m, cfg["steps"], x0=x0, seed=cfg["solver_seed"], collect_x=True)
            xs = r["xs"]
            pts.append(xs)
            n = len(xs)
            path["kappa"] += [kappa] * n
            path["method"] += [m] * n
            path["iter"] += list(range(n))
            path["x1"] += xs[:, 0].tolist()
            path["x2"] += xs[:, 1].tolist()
            h = r["history"]
            curves["kappa"] += [kappa] * len(h["iter"])
            curves["method"] += [m] * len(h["iter"])
            curves["iter"] += h["iter"].tolist()
            curves["gap"] += h["gap"].tolist()
        allp = np.vstack([np.atleast_2d(q) for q in pts] + [x_star[None]])
        lo, hi = allp.min(0), allp.max(0)
        pad = 0.15 * (hi - lo) + 1e-9
        g1 = np.linspace(lo[0] - pad[0], hi[0] + pad[0], cfg["grid"])
        g2 = np.linspace(lo[1] - pad[1], hi[1] + pad[1], cfg["grid"])
        for a in g1:
            for b in g2:
                grid["kappa"].append(kappa)
                grid["x1"].append(a)
                grid["x2"].append(b)
                grid["gap"].append(p.f(np.array([a, b])) - f_star)
    return {"tables": {"path": path, "curves": curves, "grid": grid}, "results": results}


def traj_render(data: dict) -> plt.Figure:
    cfg, T, res = data["config"], data["tables"], data["results"]
    K = cfg["kappas"]
    fig, axes = figure("double", 3.3 * len(K), len(K), 2,
                       gridspec_kw={"width_ratios": [1.15, 1]})
    # BNGD and GDNP reach the valley floor at once: draw GDNP below with big hollow markers
    zorder = {"gdnp": 2, "gd": 3, "bngd": 4}
    msize = {"gdnp": 8, "gd": 3.5, "bngd": 4.5}
    for i, kappa in enumerate(K):
        ax, ax2 = axes[i]
        G = T["grid"]
        sel = _rows(G, kappa=kappa)
        x1, x2, z = G["x1"][sel], G["x2"][sel], G["gap"][sel]
        n1, n2 = np.unique(x1).size, np.unique(x2).size
        Z = np.log10(np.maximum(z, 1e-16)).reshape(n1, n2).T
        ax.contour(np.unique(x1), np.unique(x2), Z, levels=14, colors="0.75", linewidths=0.6,
                   negative_linestyles="solid")
        for m in cfg["methods"]:
            s = _rows(T["path"], kappa=kappa, method=m)
            kw = method_kw(m, ms=msize[m], zorder=zorder[m])
            ax.plot(T["path"]["x1"][s], T["path"]["x2"][s], **kw)
        xs = res[repr(kappa)]["x_star"]
        x0 = res[repr(kappa)]["x0"]
        ax.plot(*xs, "*", color="0.5", ms=12, mec="k", ls="none", label=r"$\tilde w^*$",
                zorder=6)
        ax.plot(*x0, "ko", ms=5, ls="none", label=r"start $\tilde w_0$", zorder=6)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_title(rf"d = 2, $\kappa$ = {kappa:g}: paths over $\log_{{10}}(f - f^*)$ "
                     "contours")
        ax.set_xlabel(r"$\tilde w_1$")
        ax.set_ylabel(r"$\tilde w_2$")
        ax.grid(False)
        floor = gap_floor(res[repr(kappa)]["f_star"])
        shade_floor(ax2, floor, label=FLOOR_LABEL if i == 0 else None)
        shown = _rows(T["curves"], kappa=kappa) & (T["curves"]["gap"] > 0)
        for m in cfg["methods"]:
            s = shown & _rows(T["curves"], method=m)
            ax2.semilogy(T["curves"]["iter"][s], T["curves"]["gap"][s],
                         **method_kw(m, int(s.sum())))
        # the shaded band reaches 1e-300: keep the axis to the data and just below the floor
        gaps = T["curves"]["gap"][shown]
        low, high = (float(np.min(gaps)), float(np.max(gaps))) if gaps.size else (floor, 1.0)
        ax2.set_ylim(0.3 * min(low, floor), 3.0 * high)
        ax2.set_title(rf"$f - f^*$, $\kappa$ = {kappa:g}")
        ax2.set_xlabel("iteration")
        ax2.set_ylabel(r"$f - f^*$")
    figure_legend(fig, axes, ncol=5)
    return fig


register("trajectories", "Weight paths in d = 2 over the OLS contours", traj_config,
         traj_compute, traj_render, cost=2)
