"""``cost``: gap against oracle cost (passes over the data) and wall-clock, empirical halfspace,
with scipy's L-BFGS beside as the reference a user would pick (theory guide §4, §6-§7)."""

from __future__ import annotations

import time

import numpy as np

from ._core import Parts, gap_floor, register, run_solver, thin
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


def _start(cfg) -> tuple:
    """The problem, ``f*``, the rounding floor, the start and its gap (the same in every
    piece: all are seeded)."""
    p = _problem(cfg)
    f_star = float(p.solution()[1])
    x0 = p.initial_point(cfg["solver_seed"])
    return p, f_star, gap_floor(f_star), x0, float(p.f(x0)) - f_star


def cost_split(cfg: dict) -> list:
    """One piece per method, L-BFGS last (the runs are independent; each has its clock)."""
    return [(cfg, m) for m in [*cfg["methods"], "lbfgs"]]


def _cost_weight(piece) -> float:
    """GD and AGD spend the whole budget of passes; GDNP and L-BFGS stop far earlier."""
    return {"gd": 10.0, "agd": 10.0, "gdnp": 2.0}.get(piece[1], 1.0)


def cost_run(piece) -> dict:
    """One method's run: ``iter``, ``passes``, ``seconds`` and ``gap`` per record, its passes
    per iteration and the ``start`` (``f*``, the start's gap and the floor)."""
    cfg, m = piece
    p, f_star, floor, x0, gap0 = _start(cfg)
    start = {"f_star": f_star, "gap0": gap0, "floor": floor}
    if m == "lbfgs":
        lb = _lbfgs(p, x0, f_star, cfg["passes"])
        return {"iter": np.arange(lb["gap"].size), "passes": lb["passes"],
                "seconds": lb["time"], "gap": lb["gap"], "start": start,
                "passes_to_1e-8": _passes_to(lb["passes"], lb["gap"] / gap0, 1e-8)}
    # a GDNP step costs ~8-10 passes (gradient, probes, midpoints in the rounding band):
    # budget 10 per step
    per_iter = 10 if m == "gdnp" else 1
    opts = {"T_s": cfg["T_s"]} if m == "gdnp" else {}
    # a run stops at the rounding floor, but AGD, whose momentum ripples dip to it and climb
    # back (a trough at 3e-15 one step from 1e-10, then 2e-7 again), runs its whole budget
    r = run_solver(p, m, max(cfg["passes"] // per_iter, 2), x0=x0,
                   stop_gap=None if m == "agd" else floor, **opts)
    h = r["history"]
    nit = max(int(h["iter"][-1]), 1)
    # nfev counts every value_and_grad and every d_g f of the bisection; spread evenly
    nfev = float(r.get("nfev", np.nan)) if "nfev" in r else np.nan
    per = (nfev - 1.0) / nit if np.isfinite(nfev) else per_iter
    if m == "agd" and r.get("lr") is not None:
        # with a known step AGD's gradient at y_k is all the step needs: its evaluation at
        # x_k only feeds the history and the stopping test, monitoring that is not counted
        # for L-BFGS either (GD's and GDNP's records reuse the step's own evaluation)
        per -= 1.0
    passes = 1.0 + h["iter"] * per  # the start costs one pass
    return {"iter": h["iter"], "passes": passes, "seconds": h["time"], "gap": h["gap"],
            "per": float(per), "start": start,
            "passes_to_1e-8": _passes_to(passes, h["gap"] / gap0, 1e-8)}


def _passes_to(passes, rel_gap, target: float) -> float:
    """The passes at the first record from which the relative gap *stays* at or below
    ``target`` (NaN if the run does not end there), on every record of the run (the drawn
    curves are thinned). A first crossing would flatter AGD, whose ripples climb back (from
    below 1e-8 early in its run to 1.4e-5)."""
    rel_gap = np.asarray(rel_gap)
    above = np.flatnonzero(~(rel_gap <= target))
    first = int(above[-1]) + 1 if above.size else 0
    return float(np.asarray(passes)[first]) if first < rel_gap.size else np.nan


def cost_join(cfg: dict, runs: list) -> dict:
    gap0 = runs[0]["start"]["gap0"]
    curves = {"method": [], "iter": [], "passes": [], "seconds": [], "rel_gap": []}
    results = {**runs[0]["start"], "n": cfg["n"]}
    for (_, m), run in zip(cost_split(cfg), runs, strict=True):
        idx = thin(run["gap"].size)
        curves["method"] += [m] * idx.size
        curves["iter"] += (idx if m == "lbfgs" else run["iter"][idx]).tolist()
        curves["passes"] += run["passes"][idx].tolist()
        curves["seconds"] += run["seconds"][idx].tolist()
        curves["rel_gap"] += (run["gap"][idx] / gap0).tolist()
        if m == "lbfgs":
            results["lbfgs_final_rel_gap"] = float(run["gap"][-1] / gap0)
            results["lbfgs_passes"] = float(run["passes"][-1])
        else:
            results[f"{m}_passes_per_iter"] = run["per"]
            results[f"{m}_final_rel_gap"] = float(run["gap"][-1] / gap0)
            results[f"{m}_seconds"] = float(run["seconds"][-1])
    # passes to reach a relative gap of 1e-8, per method, on every record of its run
    for (_, m), run in zip(cost_split(cfg), runs, strict=True):
        results[f"{m}_passes_to_1e-8"] = run["passes_to_1e-8"]
    return {"tables": {"curves": curves}, "results": results}


def cost_render(data: dict):
    from .figs_halfspace import _rows

    cfg, cur, res = data["config"], data["tables"]["curves"], data["results"]
    fig, axes = figure("double", 3.2, 1, 2, sharey=True)
    for ax, xcol, xlabel in ((axes[0, 0], "passes", "passes over the data "
                              r"(what a step needs: $\nabla f$, $f$, $\partial_g f$)"),
                             (axes[0, 1], "seconds", "wall-clock seconds (this run)")):
        shade_floor(ax, res["floor"] / res["gap0"])
        for m in [*cfg["methods"], "lbfgs"]:
            run = _rows(cur, method=m)
            s = run & (cur["rel_gap"] > 0)  # a gap of exactly 0 (L-BFGS) has no log
            ax.plot(cur[xcol][s], cur["rel_gap"][s], **method_kw(m, int(s.sum())))
            if s.any() and cur["rel_gap"][run][-1] <= res["floor"] / res["gap0"]:
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
         cost_config, None, cost_render, cost=14,
         parts=Parts(cost_split, cost_run, cost_join, _cost_weight))
