"""``cost``: gap against oracle cost (passes over the data) and wall-clock, empirical halfspace,
with scipy's L-BFGS beside as the reference a user would pick (theory guide §4, §6-7)."""

from __future__ import annotations

import time

import numpy as np

from ._core import gap_floor, register, run_solver, thin
from .style import figure, figure_legend, mark_floor_stop, method_kw, shade_floor


def cost_config(quick: bool) -> dict:
    return {"dim": 10, "kappa": 10.0, "separation": 0.9, "n": 5000 if quick else 100_000,
            "loss": "logistic", "methods": ["gd", "agd", "gdnp"], "passes": 300 if quick
            else 2000, "T_s": 50, "problem_seed": 0, "solver_seed": 0}


def _problem(cfg):
    from gdnp.problems import Halfspace

    return Halfspace.sample(cfg["dim"], cfg["kappa"], cfg["n"], separation=cfg["separation"],
                            loss=cfg["loss"], seed=cfg["problem_seed"])


def _lbfgs(p, x0, f_star: float, maxiter: int) -> dict:
    """scipy L-BFGS-B on ``f``: one ``value_and_grad`` (one pass) per function evaluation."""
    from scipy.optimize import minimize

    calls = {"n": 0}
    rec = {"passes": [0], "time": [0.0], "gap": [float(p.f(x0)) - f_star]}
    t0 = time.perf_counter()

    def fg(x):
        calls["n"] += 1
        return p.value_and_grad(x)

    def cb(xk):
        rec["passes"].append(calls["n"])
        rec["time"].append(time.perf_counter() - t0)
        rec["gap"].append(float(p.f(xk)) - f_star)  # not counted: bookkeeping

    minimize(fg, x0, jac=True, method="L-BFGS-B", callback=cb,
             options={"maxiter": maxiter, "ftol": 0.0, "gtol": 0.0, "maxcor": 10})
    return {k: np.asarray(v, dtype=float) for k, v in rec.items()}


def cost_compute(cfg: dict) -> dict:
    p = _problem(cfg)
    f_star = float(p.solution()[1])
    floor = gap_floor(f_star)
    x0 = p.initial_point(cfg["solver_seed"])
    gap0 = float(p.f(x0)) - f_star
    curves = {"method": [], "iter": [], "passes": [], "seconds": [], "rel_gap": []}
    results = {"f_star": f_star, "gap0": gap0, "floor": floor, "n": cfg["n"]}
    for m in cfg["methods"]:
        # a GDNP step costs ~8-10 passes (gradient, probes, midpoints in the rounding band):
        # budget 10 per step
        per_iter = 10 if m == "gdnp" else 1
        opts = {"T_s": cfg["T_s"]} if m == "gdnp" else {}
        r = run_solver(p, m, max(cfg["passes"] // per_iter, 2), x0=x0, stop_gap=floor, **opts)
        h = r["history"]
        nit = max(int(h["iter"][-1]), 1)
        # nfev counts every value_and_grad and every d_g f of the bisection; spread evenly
        nfev = float(r.get("nfev", np.nan)) if "nfev" in r else np.nan
        per = (nfev - 1.0) / nit if np.isfinite(nfev) else per_iter
        passes = 1.0 + h["iter"] * per  # the start costs one pass
        idx = thin(h["iter"].size)
        curves["method"] += [m] * idx.size
        curves["iter"] += h["iter"][idx].tolist()
        curves["passes"] += passes[idx].tolist()
        curves["seconds"] += h["time"][idx].tolist()
        curves["rel_gap"] += (h["gap"][idx] / gap0).tolist()
        results[f"{m}_passes_per_iter"] = float(per)
        results[f"{m}_final_rel_gap"] = float(h["gap"][-1] / gap0)
        results[f"{m}_seconds"] = float(h["time"][-1])
    lb = _lbfgs(p, x0, f_star, cfg["passes"])
    idx = thin(lb["gap"].size)
    curves["method"] += ["lbfgs"] * idx.size
    curves["iter"] += idx.tolist()
    curves["passes"] += lb["passes"][idx].tolist()
    curves["seconds"] += lb["time"][idx].tolist()
    curves["rel_gap"] += (lb["gap"][idx] / gap0).tolist()
    results["lbfgs_final_rel_gap"] = float(lb["gap"][-1] / gap0)
    results["lbfgs_passes"] = float(lb["passes"][-1])
    # passes to reach a relative gap of 1e-8, per method
    for m in [*cfg["methods"], "lbfgs"]:
        sel = [i for i, mm in enumerate(curves["method"]) if mm == m]
        g = np.asarray(curves["rel_gap"])[sel]
        pa = np.asarray(curves["passes"])[sel]
        hit = np.flatnonzero(g <= 1e-8)
        results[f"{m}_passes_to_1e-8"] = float(pa[hit[0]]) if hit.size else np.nan
    return {"tables": {"curves": curves}, "results": results}


def cost_render(data: dict):
    from .figs_halfspace import _rows

    cfg, cur, res = data["config"], data["tables"]["curves"], data["results"]
    fig, axes = figure("double", 3.2, 1, 2, sharey=True)
    for ax, xcol, xlabel in ((axes[0, 0], "passes", "passes over the data (function, "
                              r"gradient and every $\partial_g f$)"),
                             (axes[0, 1], "seconds", "wall-clock seconds (loaded machine)")):
        shade_floor(ax, res["floor"] / res["gap0"])
        for m in [*cfg["methods"], "lbfgs"]:
            s = _rows(cur, method=m) & (cur["rel_gap"] > 0)
            ax.plot(cur[xcol][s], cur["rel_gap"][s], **method_kw(m, int(s.sum())))
            if s.any() and cur["rel_gap"][s][-1] <= res["floor"] / res["gap0"]:
                mark_floor_stop(ax, cur[xcol][s][-1], cur["rel_gap"][s][-1], m)
        ax.set(xscale="log", yscale="log", xlabel=xlabel)
        ax.set_ylim(max(res["floor"] / res["gap0"] / 10, 1e-17), 3.0)
    axes[0, 0].set_ylabel(r"$(f - f^*)/(f_0 - f^*)$")
    figure_legend(fig, axes, ncol=5)
    fig.suptitle(f"Cost: empirical logistic halfspace, n = {cfg['n']:g}, d = {cfg['dim']}, "
                 rf"$\kappa$ = {cfg['kappa']:g}, c = {cfg['separation']:g} "
                 f"(GDNP: T_s = {cfg['T_s']}); filled end: stopped at the floor")
    return fig


register("cost", "Gap against passes over the data and wall-clock (n = 1e5), L-BFGS beside",
         cost_config, cost_compute, cost_render, cost=14)
