"""Asymptotic rates: ``rates_vs_kappa`` and ``rates_vs_separation`` (theory guide §2-§4, §7).

Every plotted rate is ``1 - r`` of :func:`gdnp.rates.fit_rate` on the gap ``f - f*`` (the
per-iteration contraction of the window above the rounding floor), with its standard error;
a filled marker means the fitter classified every seed's run as linear over at least a decade
(:func:`~gdnp.plots.style.linear_over_a_decade`), a hollow one that it did not (the linear
fit's ``1 - r`` is still drawn: a local contraction, not a label).
"""

from __future__ import annotations

import matplotlib.ticker
import numpy as np

from ._core import (
    Parts,
    evaluation_noise,
    fit_row,
    flatten,
    gap_floor,
    register,
    run_solver,
    runs_in_turn,
)
from .style import (
    figure,
    figure_legend,
    linear_over_a_decade,
    mark_below_axes,
    method_kw,
    theory_kw,
)

# ============================================================================ shared


def _fit_run(problem, method: str, maxiter: int, seed: int, T_s: int) -> tuple[dict, dict]:
    import gdnp
    from gdnp.problems import OLS

    x_star, f_star = problem.solution()
    f_star = float(f_star)
    # above f's own rounding near x*: on the population halfspaces with a receding optimum
    # (c = 0.99, f* ~ 3e-12) it is ~5e3 ulp of f*, and a tail fitted into it had been
    # labelled linear, sublinear or undetermined by the last bits of the machine's exp
    noise = evaluation_noise(problem, x_star)
    floor = gap_floor(f_star, noise)
    opts = {}
    if method == "gdnp":  # OLS: the exact length (same iterates, no bisection cost)
        opts = {"length": "closed_form"} if isinstance(problem, OLS) else {"T_s": T_s}
    r = run_solver(problem, method, maxiter, seed=seed, stop_gap=floor, **opts)
    h = r["history"]
    fit = gdnp.rates.fit_rate(h["iter"], h["gap"], floor=floor)
    row = {**fit_row(fit), "nit": int(h["iter"][-1]), "final_gap": float(h["gap"][-1]),
           "status": r["status"], "f_star": f_star, "floor": floor, "f_noise": noise}
    return row, r


def _maxiter(cfg: dict, kappa: float) -> int:
    return int(min(max(cfg["min_iter"], cfg["iter_per_kappa"] * kappa), cfg["max_iter"]))


def _summary(tab: dict, mask) -> tuple[float, float, float, bool]:
    """Median, min and max of ``1 - r`` over the selected seeds, and whether every one is
    linear over at least a decade (:func:`~gdnp.plots.style.linear_over_a_decade`)."""
    v = np.asarray(tab["one_minus_rate"][mask], dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if v.size == 0:
        return np.nan, np.nan, np.nan, False
    return (float(np.median(v)), float(v.min()), float(v.max()),
            bool(np.all(linear_over_a_decade(tab["kind"][mask], tab["decades"][mask]))))


def _draw_rates(ax, tab: dict, xcol: str, xs, methods, **eq) -> None:
    """Median ``1 - r`` against ``xcol`` with a min-max band over seeds for each method."""
    from .figs_halfspace import _rows

    for m in methods:
        med, lo, hi, lin = (np.full(len(xs), np.nan) for _ in range(4))
        for i, x in enumerate(xs):
            sel = _rows(tab, method=m, **{xcol: x}, **eq)
            if sel.any():
                med[i], lo[i], hi[i], lin[i] = _summary(tab, sel)
        kw = method_kw(m)
        ok = np.isfinite(med)
        ax.fill_between(np.asarray(xs)[ok], lo[ok], hi[ok], color=kw["color"], alpha=0.18,
                        lw=0)
        ax.plot(np.asarray(xs)[ok], med[ok], **{**kw, "ms": 5, "mew": 1.1})  # hollow
        full = ok & (lin > 0)
        ax.plot(np.asarray(xs)[full], med[full], ls="none", marker=kw["marker"],
                color=kw["color"], mfc=kw["color"], ms=5, label="_filled")


def _loglog_slope(x, y) -> float:
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(y) & (y > 0) & (x > 0)
    if ok.sum() < 2:
        return np.nan
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


# ============================================================================ rates_vs_kappa
def rk_config(quick: bool) -> dict:
    return {"kappas": [1.0, 10.0, 100.0] if quick else [1.0, 10.0, 100.0, 1000.0, 10000.0],
            "seeds": [0] if quick else [0, 1, 2], "dim": 10, "separation": 0.9,
            "loss": "logistic", "noise": 0.1, "methods": ["gd", "agd", "bngd", "gdnp"],
            "problems": ["halfspace", "ols"], "min_iter": 200, "iter_per_kappa": 40,
            "max_iter": 150 if quick else 2500, "T_s": 50, "solver_seed": 0,
            "n_jobs": 1 if quick else 2}


def _rk_problem(cfg: dict, problem: str, kappa: float, seed: int):
    from gdnp.problems import OLS, Halfspace

    if problem == "ols":
        return OLS.random(cfg["dim"], kappa, seed=seed, noise=cfg["noise"])
    return Halfspace.random(cfg["dim"], kappa, separation=cfg["separation"], loss=cfg["loss"],
                            seed=seed)


def _rk_run(args) -> dict:
    import gdnp

    cfg, problem, kappa, seed, method = args
    p = _rk_problem(cfg, problem, kappa, seed)
    row, r = _fit_run(p, method, _maxiter(cfg, kappa), cfg["solver_seed"], cfg["T_s"])
    x_star = np.asarray(p.solution()[0], dtype=float)
    kstar = gdnp.rates.kappa_star(p.S, x_star)
    pred = np.nan
    if method == "bngd" and problem == "ols" and r["status"] != -1:
        rr = gdnp.rates.bngd_rate(p.S, x_star, np.asarray(r["direction"], float), r["lr"])
        pred = 1.0 - rr**2  # the excess loss decays like r^(2k)
    return {"problem": problem, "kappa": kappa, "seed": seed, "method": method, **row,
            "kappa_S": float(p.kappa), "mu_over_L": float(p.mu / p.L), "kappa_star": kstar,
            "bngd_pred_1mr": pred, "maxiter": _maxiter(cfg, kappa)}


def rk_split(cfg: dict) -> list:
    """One piece per problem (kind, kappa, seed): its runs of every method."""
    return [[(cfg, pb, k, s, m) for m in cfg["methods"]] for pb in cfg["problems"]
            for k in cfg["kappas"][::-1] for s in cfg["seeds"]]


def _rk_weight(piece: list) -> float:
    cfg, _, kappa = piece[0][:3]
    return _maxiter(cfg, kappa)


def rk_join(cfg: dict, results: list) -> dict:
    rows = flatten(results)
    cols = list(rows[0])
    runs = {c: [r[c] for r in rows] for c in cols}
    # theory lines (per kappa; kappa* averaged over the seeds' OLS problems)
    theory = {"problem": [], "kappa": [], "line": [], "value": []}
    grid = np.logspace(0, np.log10(max(cfg["kappas"])), 40)
    for pb in cfg["problems"]:
        for name, val in (("one_over_kappa", 1 / grid), ("one_over_sqrt_kappa", grid**-0.5),
                          ("k19", 1 - (1 - 1 / grid) ** 2)):
            theory["problem"] += [pb] * grid.size
            theory["kappa"] += grid.tolist()
            theory["line"] += [name] * grid.size
            theory["value"] += val.tolist()
        if pb == "ols":
            for k in cfg["kappas"]:
                ks = np.mean([r["kappa_star"] for r in rows
                              if r["problem"] == pb and r["kappa"] == k])
                rb = (ks - 1) / (ks + 1)
                theory["problem"].append(pb)
                theory["kappa"].append(k)
                theory["line"].append("c19_best")
                theory["value"].append(1 - rb**2)
    results = {}
    for pb in cfg["problems"]:
        for m in cfg["methods"]:
            meds = []
            for k in cfg["kappas"]:
                sel = [r for r in rows if r["problem"] == pb and r["method"] == m
                       and r["kappa"] == k]
                v = [r["one_minus_rate"] for r in sel if np.isfinite(r["one_minus_rate"])]
                med = float(np.median(v)) if v else np.nan
                meds.append(med)
                results[f"{pb}_{m}_1mr_kappa_{k:g}"] = med
                results[f"{pb}_{m}_linear_kappa_{k:g}"] = int(
                    sum(r["kind"] == "linear" for r in sel))
            big = [i for i, k in enumerate(cfg["kappas"]) if k >= 10]
            results[f"{pb}_{m}_slope"] = _loglog_slope(np.array(cfg["kappas"])[big],
                                                       np.array(meds)[big])
    results["n_seeds"] = len(cfg["seeds"])
    return {"tables": {"runs": runs, "theory": theory}, "results": results}


_THEORY_LABELS = {"one_over_kappa": r"$1/\kappa$", "one_over_sqrt_kappa": r"$1/\sqrt{\kappa}$",
                  "k19": r"K19: $1-(1-1/\kappa)^2$",
                  "c19_best": r"C19 best BNGD: $1-r_*^2$, $r_*=\frac{\kappa^*-1}{\kappa^*+1}$"
                              r" (seeds' mean $\kappa^*$)"}


def rk_render(data: dict):
    from .figs_halfspace import _rows

    cfg, T = data["config"], data["tables"]
    runs, th = T["runs"], T["theory"]
    pbs = cfg["problems"]
    fig, axes = figure("double", 3.9, 1, len(pbs), sharey=True)
    titles = {"halfspace": f"Gaussian halfspace ({cfg['loss']}, d = {cfg['dim']}, "
                           f"c = {cfg['separation']:g})",
              "ols": f"OLS (d = {cfg['dim']})"}
    for ax, pb in zip(axes[0], pbs, strict=True):
        for i, line in enumerate(["one_over_kappa", "one_over_sqrt_kappa", "k19", "c19_best"]):
            sel = _rows(th, problem=pb, line=line)
            # C19's line dash-dotted: two dotted lines (black, grey) merge in greyscale
            over = {"ls": (0, (5, 1.5, 1, 1.5))} if line == "c19_best" else {}
            if sel.any():
                ax.plot(th["kappa"][sel], th["value"][sel],
                        **theory_kw([1, 3, 0, 2][i], _THEORY_LABELS[line], **over))
        _draw_rates(ax, runs, "kappa", cfg["kappas"], cfg["methods"], problem=pb)
        if pb == "ols":
            sel = _rows(runs, problem=pb, method="bngd") & np.isfinite(runs["bngd_pred_1mr"])
            ax.plot(runs["kappa"][sel], runs["bngd_pred_1mr"][sel], "+", color="0.3", ms=8,
                    ls="none", label=r"C19 predicted BNGD, run's $\varepsilon$, $w_\infty$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(titles[pb])
        ax.set_xlabel(r"condition number $\kappa$ of $S$")
    axes[0, 0].set_ylabel(r"$1 - r$  (per-iteration contraction of $f - f^*$)")
    figure_legend(fig, axes, ncol=3)
    fig.suptitle(f"Rates: median over {len(cfg['seeds'])} seed(s), band = min-max; filled = "
                 "every seed linear over >= 1 decade, hollow = not (no point: nothing to fit)")
    return fig


register("rates_vs_kappa", "Asymptotic 1 - r against kappa: which method has which dependence",
         rk_config, None, rk_render, cost=25,
         parts=Parts(rk_split, runs_in_turn(_rk_run), rk_join, _rk_weight))


# ============================================================================ rates_vs_separation
def rs_config(quick: bool) -> dict:
    return {"kappa": 10.0, "separations": ([0.5, 0.9, 0.99] if quick else
                                           [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]),
            "seeds": [0] if quick else [0, 1, 2], "dim": 10, "loss": "logistic",
            "methods": ["gd", "agd", "gdnp"], "maxiter": 150 if quick else 3000, "T_s": 50,
            # the local Hessian on the problems' own 601-node rule, the objective GD runs on
            # (201 nodes had put its eigenvalues at c = 0.99 1% off)
            "solver_seed": 0, "gh_nodes": 601, "n_jobs": 1 if quick else 2}


def local_hessian(problem, w: np.ndarray, n_nodes: int = 601) -> np.ndarray:
    """``grad^2 f(w) = E[phi''(z'w) z z']`` of a Gaussian halfspace, ``z ~ N(u, S - u u')``.

    With ``a = z'w ~ N(m, s^2)``, ``v = (S - uu') w`` and ``z | a`` Gaussian with mean
    ``u + v (a - m)/s^2`` and covariance ``S - uu' - vv'/s^2`` (theory guide §3):
    ``H = E[phi''] (S - vv'/s^2) + E[phi''] uu' + E[phi'' (a-m)]/s^2 (uv' + vu')
    + E[phi'' (a-m)^2]/s^4 vv'`` with three 1-D Gauss-Hermite sums.
    """
    from scipy.special import roots_hermitenorm

    S, u = problem.S, problem.u
    Sig = S - np.outer(u, u)
    v = Sig @ w
    m, s2 = float(u @ w), float(w @ v)
    s = np.sqrt(s2)
    xi, om = roots_hermitenorm(int(n_nodes))
    om = om / om.sum()
    d2 = problem.loss.d2phi(m + s * xi)
    e0, e1, e2 = float(om @ d2), float(om @ (d2 * s * xi)), float(om @ (d2 * s2 * xi**2))
    H = e0 * (Sig - np.outer(v, v) / s2) + e0 * np.outer(u, u)
    H += (e1 / s2) * (np.outer(u, v) + np.outer(v, u)) + (e2 / s2**2) * np.outer(v, v)
    return 0.5 * (H + H.T)


def _rs_run(args) -> dict:
    from gdnp.problems import Halfspace

    cfg, c, seed, method = args
    p = Halfspace.random(cfg["dim"], cfg["kappa"], separation=c, loss=cfg["loss"], seed=seed)
    row, r = _fit_run(p, method, cfg["maxiter"], cfg["solver_seed"], cfg["T_s"])
    out = {"separation": c, "seed": seed, "method": method, **row, "gd_lr": np.nan,
           "gd_pred_1mr": np.nan, "lam_min": np.nan, "lam_max": np.nan,
           "kappa_local_S": np.nan, "w_star_norm": np.nan}
    if method == "gd":
        w_star = np.asarray(p.solution()[0], dtype=float)
        H = local_hessian(p, w_star, cfg["gh_nodes"])
        lam = np.linalg.eigvalsh(H)
        lr = float(r["lr"])
        rho = float(np.max(np.abs(1.0 - lr * lam)))  # GD near w*: x - x* contracts by rho
        # the gap contracts by rho^2; 1 - rho^2 without cancellation when rho = 1 - lr lam_min
        pred = (-np.expm1(2.0 * np.log1p(-lr * lam[0])) if lr * lam[-1] <= 1.0
                else 1.0 - rho**2)
        # the S^-1 geometry: eigenvalues of S^-1/2 H S^-1/2
        Li = np.linalg.cholesky(np.linalg.inv(p.S))
        lam_S = np.linalg.eigvalsh(Li.T @ H @ Li)
        out.update(gd_lr=lr, gd_pred_1mr=float(pred), lam_min=float(lam[0]),
                   lam_max=float(lam[-1]), kappa_local_S=float(lam_S[-1] / lam_S[0]),
                   w_star_norm=float(np.linalg.norm(w_star)))
    return out


def rs_split(cfg: dict) -> list:
    """One piece per problem (separation, seed): its runs of every method."""
    return [[(cfg, c, s, m) for m in cfg["methods"]] for c in cfg["separations"][::-1]
            for s in cfg["seeds"]]


def rs_join(cfg: dict, results: list) -> dict:
    rows = flatten(results)
    runs = {c: [r[c] for r in rows] for c in rows[0]}
    results = {}
    for m in cfg["methods"]:
        for c in cfg["separations"]:
            v = [r["one_minus_rate"] for r in rows if r["method"] == m and r["separation"] == c
                 and np.isfinite(r["one_minus_rate"])]
            results[f"{m}_1mr_c_{c:g}"] = float(np.median(v)) if v else np.nan
            results[f"{m}_linear_c_{c:g}"] = int(sum(
                r["kind"] == "linear" for r in rows if r["method"] == m
                and r["separation"] == c))
    for c in cfg["separations"]:
        v = [r["gd_pred_1mr"] for r in rows if r["method"] == "gd" and r["separation"] == c]
        results[f"gd_pred_1mr_c_{c:g}"] = float(np.median(v))
    return {"tables": {"runs": runs}, "results": results}


def rs_render(data: dict):
    from .figs_halfspace import _rows

    cfg, runs = data["config"], data["tables"]["runs"]
    C = cfg["separations"]
    fig, axes = figure("single", 3.9)
    ax = axes[0, 0]
    x = 1.0 - np.asarray(C)
    _draw_rates(ax, {**runs, "one_minus_c": 1.0 - runs["separation"]}, "one_minus_c", x,
                cfg["methods"])
    pred = np.array([np.median(runs["gd_pred_1mr"][_rows(runs, method="gd", separation=c)])
                     for c in C])
    ax.plot(x, pred, **theory_kw(0, r"GD local: $1-(1-\eta\lambda_{\min}(\nabla^2 f(w^*)))^2$"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    # the y-range of the measured rates (their seed bands): the local prediction falls to
    # ~1e-15 at c = 0.99, and a range down to it had pressed the measured curves together
    # (GD's markers hidden under AGD's and GDNP's); the points below are marked on the edge
    measured = np.asarray(runs["one_minus_rate"], dtype=float)
    measured = measured[np.isfinite(measured) & (measured > 0)]
    ax.set_ylim(float(np.min(measured)) / 5.0, 2.0 * max(float(np.max(measured)),
                                                         float(np.nanmax(pred))))
    mark_below_axes(ax, x, pred, "GD local", x_text=lambda v: f"c = {1.0 - v:g}")
    ax.invert_xaxis()
    # ticks at the separations run, labelled with c itself (a log axis in 1 - c labels only
    # its decades)
    ax.set_xticks(x, [f"{c:g}" for c in C], minor=False, rotation=45)
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel(r"separation $c$ (log scale in $1 - c$)")
    ax.set_ylabel(r"$1 - r$ of $f - f^*$")
    ax.set_title(rf"Gaussian halfspace, $\kappa$ = {cfg['kappa']:g}, d = {cfg['dim']}"
                 "\nfilled: every seed linear over a decade")
    figure_legend(fig, axes, ncol=1)
    return fig


register("rates_vs_separation", "Asymptotic 1 - r against the separation c (GD's local rate)",
         rs_config, None, rs_render, cost=7, parts=Parts(rs_split, runs_in_turn(_rs_run), rs_join))
