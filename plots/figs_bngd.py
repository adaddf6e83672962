"""BNGD on OLS: ``bngd_dynamics`` (why large rates become slow) and ``seed_ols`` (the seed
note's d = 2 / d = 3 experiments, default and tuned rates) (theory guide §1-§2, §7)."""

from __future__ import annotations

import numpy as np

from ._core import Parts, gap_floor, register, run_solver, thin
from .style import figure, figure_legend, method_kw, theory_kw


def _ols(d: int, kappa: float, seed: int, noise: float):
    from gdnp.problems import OLS

    return OLS.random(d, kappa, seed=seed, noise=noise)


# ============================================================================ bngd_dynamics
def bd_config(quick: bool) -> dict:
    return {"dim": 10, "kappa": 100.0, "noise": 0.1, "problem_seed": 0, "solver_seed": 0,
            "lr_over_L": [0.5, 5.0, 50.0, 500.0, 5000.0] if not quick else [0.5, 50.0, 5000.0],
            "steps": 300 if quick else 4000, "window": 20, "n_jobs": 1 if quick else 2}


def _bd_run(args) -> dict:
    import gdnp

    cfg, lr_rel = args
    p = _ols(cfg["dim"], cfg["kappa"], cfg["problem_seed"], cfg["noise"])
    x_star = np.asarray(p.solution()[0], dtype=float)
    lr = lr_rel / p.L
    r = run_solver(p, "bngd", cfg["steps"], seed=cfg["solver_seed"], lr=lr)
    h = r["history"]
    lam = np.sort(np.linalg.eigvalsh(gdnp.rates.c19_hessian(p.S, x_star)))[1:]
    eps_hat = 2.0 * lr * float(x_star @ x_star) / h["w_norm2"]
    pred_r = np.max(np.abs(1.0 - np.outer(eps_hat, lam)), axis=1)
    # measured direction contraction over a window: rho gap ~ r^(2k)
    W = cfg["window"]
    rg = h["rho_gap"]
    floor = 1e3 * np.finfo(float).eps * abs(p.rho_star)
    meas = np.full(rg.size, np.nan)
    ok = (rg[W:] > floor) & (rg[:-W] > floor)
    meas[:-W][ok] = (rg[W:][ok] / rg[:-W][ok]) ** (1.0 / (2 * W))
    w_inf = np.asarray(r["direction"], dtype=float)
    fit = gdnp.rates.fit_rate(h["iter"], rg, floor=floor)
    return {"lr_rel": lr_rel, "lr": lr, "iter": h["iter"], "w_norm": np.sqrt(h["w_norm2"]),
            "eps_hat": eps_hat, "pred_r": pred_r, "meas_r": meas, "rho_gap": rg,
            "final_pred_r": gdnp.rates.bngd_rate(p.S, x_star, w_inf, lr),
            "final_fit_r": float(np.sqrt(fit["rate"])) if fit["kind"] == "linear" else np.nan,
            "final_fit_kind": fit["kind"], "final_rho_gap": float(rg[-1]),
            "eps_hat_best": 2.0 / (lam[0] + lam[-1]), "kappa_star": float(lam[-1] / lam[0]),
            "r_best": gdnp.rates.bngd_best_rate(float(lam[-1] / lam[0]))}


def bd_split(cfg: dict) -> list:
    """One piece per direction rate."""
    return [(cfg, lr) for lr in cfg["lr_over_L"]]


def bd_join(cfg: dict, out: list) -> dict:
    curves = {k: [] for k in ("lr_rel", "iter", "w_norm", "eps_hat", "pred_r", "meas_r",
                              "rho_gap")}
    summary = {k: [] for k in ("lr_rel", "final_pred_r", "final_fit_r", "final_fit_kind",
                               "final_rho_gap")}
    results = {"eps_hat_best": out[0]["eps_hat_best"], "kappa_star": out[0]["kappa_star"],
               "r_best": out[0]["r_best"]}
    for o in out:
        idx = thin(o["iter"].size, log=True)  # ||w_k|| jumps in the first steps
        curves["lr_rel"] += [o["lr_rel"]] * idx.size
        for k in ("iter", "w_norm", "eps_hat", "pred_r", "meas_r", "rho_gap"):
            curves[k] += np.asarray(o[k])[idx].tolist()
        for k in summary:
            summary[k].append(o[k])
        results[f"pred_r_lr_{o['lr_rel']:g}"] = o["final_pred_r"]
        results[f"fit_r_lr_{o['lr_rel']:g}"] = o["final_fit_r"]
    return {"tables": {"curves": curves, "summary": summary}, "results": results}


def bd_render(data: dict):
    from .figs_halfspace import _rows

    cfg, T, res = data["config"], data["tables"], data["results"]
    cur = T["curves"]
    fig, axes = figure("double", 2.9, 1, 3)
    greys = np.linspace(0.0, 0.65, len(cfg["lr_over_L"]))
    styles = ["-", (0, (6, 2)), "-.", (0, (1.5, 1.5)), (0, (8, 2, 1, 2))]
    markers = ["o", "s", "^", "D", "v"]
    for i, lr in enumerate(cfg["lr_over_L"]):
        s = _rows(cur, lr_rel=lr)
        kw = {"color": str(greys[i]), "ls": styles[i % 5], "marker": markers[i % 5],
              "markevery": max(int(s.sum()) // 6, 1), "mfc": "white", "ms": 4,
              "label": rf"$\varepsilon$ = {lr:g}/L"}
        it = cur["iter"][s] + 1  # k + 1 on the log axis: the start k = 0 included
        axes[0, 0].plot(it, cur["w_norm"][s], **kw)
        axes[0, 1].plot(it, cur["eps_hat"][s], **kw)
        m = np.isfinite(cur["meas_r"][s])
        axes[0, 2].plot(it[m], 1 - cur["meas_r"][s][m], **kw)
        axes[0, 2].plot(it, 1 - cur["pred_r"][s], color=str(greys[i]), ls=":", lw=0.9,
                        label="_pred")
    axes[0, 1].axhline(res["eps_hat_best"], **theory_kw(
        1, r"best $\hat\varepsilon = 2/(\lambda^*_{\min}+\lambda^*_{\max})$"))
    axes[0, 2].axhline(1 - res["r_best"], **theory_kw(1, r"C19 best $1-r_*$"))
    axes[0, 2].plot([], [], color="0.3", ls=":", lw=0.9,
                    label=r"C19 $1-r$ at $\hat\varepsilon_k$")
    axes[0, 0].set(xscale="log", yscale="log", xlabel="iteration k + 1",
                   ylabel=r"$\|w_k\|_2$", title="direction norm grows")
    axes[0, 1].set(xscale="log", yscale="log", xlabel="iteration k + 1",
                   ylabel=r"$\hat\varepsilon_k = 2\varepsilon\|\tilde w^*\|^2/\|w_k\|^2$",
                   title="effective step shrinks")
    axes[0, 2].set(xscale="log", yscale="log", xlabel="iteration k + 1",
                   ylabel=r"$1 - r$ (direction error)",
                   title=f"contraction\n({cfg['window']}-step window)")
    figure_legend(fig, axes, ncol=4)
    fig.suptitle(rf"BNGD on OLS (d = {cfg['dim']}, $\kappa$ = {cfg['kappa']:g}): large "
                 r"direction rates $\varepsilon$ grow $\|w\|$ until $\hat\varepsilon$ is small")
    return fig


register("bngd_dynamics", "BNGD: ||w_k||, the effective step and the contraction vs C19",
         bd_config, None, bd_render, cost=3, parts=Parts(bd_split, _bd_run, bd_join))


# ============================================================================ seed_ols
def so_config(quick: bool) -> dict:
    return {"dims": [2, 3], "kappas": [10.0, 1000.0], "noise": 0.1, "problem_seed": 0,
            "solver_seed": 0, "rel_tol": 1e-10,
            "lr_grid_over_L": (np.logspace(-1, 3, 9) if quick else
                               np.logspace(-1, 3, 17)).tolist(),
            # the cap clears the slowest run that reaches the gap (GD's default in d = 3,
            # kappa = 1000: 9173 iterations); a cap of 15000 left every uncensored count as it is
            # and cost 50,000 more iterations of censored BNGD runs
            "maxiter": 400 if quick else 10000, "n_jobs": 1 if quick else 2,
            # GD's grid also holds its optimal constant step on the quadratic, 1/(L + mu)
            # (Hessian 2S): the log grid jumps from 0.562/L to 1/L, where GD no longer
            # converges, and a "tuned" GD without it was 1.5-1.8x too slow
            "gd_optimal_step": True}


def _so_iters(cfg, d, kappa, method, lr_rel, maxiter: int) -> dict:
    p = _ols(d, kappa, cfg["problem_seed"], cfg["noise"])
    f_star = float(p.solution()[1])
    x0 = p.initial_point(cfg["solver_seed"])
    gap0 = float(p.f(x0) - f_star)
    stop = max(cfg["rel_tol"] * gap0, gap_floor(f_star))
    opts = {} if lr_rel is None else {"lr": lr_rel / p.L}
    r = run_solver(p, method, maxiter, x0=x0, stop_gap=stop, **opts)
    h = r["history"]
    gaps = h.get("gap", np.array([np.inf]))
    hit = np.flatnonzero(gaps <= stop)
    return {"iters": int(h["iter"][hit[0]]) if hit.size else maxiter,
            "censored": int(hit.size == 0), "status": r["status"], "lr": r.get("lr"),
            "gap0": gap0, "history": h, "L": p.L, "mu": p.mu}


def _so_run(args) -> dict:
    """Default rate first; then each grid rate, cut off once it cannot beat the best so far
    (so a grid entry marked censored means "not faster than the best", not "diverged")."""
    cfg, d, kappa, method = args
    default = _so_iters(cfg, d, kappa, method, None, cfg["maxiter"])
    best, best_lr = default, float(default["lr"]) * default["L"]
    grid = []
    rates = list(cfg["lr_grid_over_L"])
    if method == "gd" and cfg.get("gd_optimal_step"):
        rates.append(default["L"] / (default["L"] + default["mu"]))  # 1/(L + mu), over 1/L
    for lr in rates:
        cap = best["iters"] if not best["censored"] else cfg["maxiter"]
        o = _so_iters(cfg, d, kappa, method, lr, cap)
        grid.append((lr, o["iters"], o["censored"], o["status"]))
        if not o["censored"] and o["status"] != 2 and (best["censored"]
                                                       or o["iters"] < best["iters"]):
            best, best_lr = o, lr
    return {"dim": d, "kappa": kappa, "method": method, "best_lr_rel": best_lr,
            "default": default, "best": best, "grid": grid}


def so_split(cfg: dict) -> list:
    """One piece per (dimension, kappa, method): its default run and its rate grid."""
    return [(cfg, d, k, m) for d in cfg["dims"] for k in cfg["kappas"] for m in ("gd", "bngd")]


def _so_weight(piece) -> float:
    """BNGD's iterations cost about twice GD's; a grid at kappa = 1000 runs ~100 times more."""
    _, d, kappa, method = piece
    return (2.0 if method == "bngd" else 1.0) * kappa * (1.5 if d == 3 else 1.0)


def so_join(cfg: dict, out: list) -> dict:
    curves = {"dim": [], "kappa": [], "method": [], "rate": [], "iter": [], "rel_gap": []}
    runs = {"dim": [], "kappa": [], "method": [], "rate": [], "lr_over_L": [], "iters": [],
            "censored": []}
    grid = {"dim": [], "kappa": [], "method": [], "lr_over_L": [], "iters": [], "censored": [],
            "status": []}
    results = {}
    for o in out:
        d, k, m = o["dim"], o["kappa"], o["method"]
        for which in ("default", "best"):
            r = o[which]
            h = r["history"]
            idx = thin(h["iter"].size, log=True)  # drawn on a log axis: keep the first steps
            n = idx.size
            curves["dim"] += [d] * n
            curves["kappa"] += [k] * n
            curves["method"] += [m] * n
            curves["rate"] += [which] * n
            curves["iter"] += h["iter"][idx].tolist()
            curves["rel_gap"] += (h["gap"][idx] / r["gap0"]).tolist()
            lr_rel = float(r["lr"]) * r["L"]
            for key, val in (("dim", d), ("kappa", k), ("method", m), ("rate", which),
                             ("lr_over_L", lr_rel), ("iters", r["iters"]),
                             ("censored", r["censored"])):
                runs[key].append(val)
            results[f"d{d}_kappa{k:g}_{m}_{which}_iters"] = r["iters"]
            results[f"d{d}_kappa{k:g}_{m}_{which}_censored"] = r["censored"]
        for lr, it, cz, st in o["grid"]:
            for key, val in (("dim", d), ("kappa", k), ("method", m), ("lr_over_L", lr),
                             ("iters", it), ("censored", cz), ("status", st)):
                grid[key].append(val)
    for d in cfg["dims"]:
        for k in cfg["kappas"]:
            g = results[f"d{d}_kappa{k:g}_gd_best_iters"]
            b = results[f"d{d}_kappa{k:g}_bngd_best_iters"]
            results[f"d{d}_kappa{k:g}_gd_over_bngd_best"] = g / b
    return {"tables": {"curves": curves, "runs": runs, "grid": grid}, "results": results}


def so_render(data: dict):
    from .figs_halfspace import _rows

    cfg, T = data["config"], data["tables"]
    dims, kappas = cfg["dims"], cfg["kappas"]
    fig, axes = figure("double", 5.0, len(dims), len(kappas), sharey=True)
    for i, d in enumerate(dims):
        for j, k in enumerate(kappas):
            ax = axes[i, j]
            for m in ("gd", "bngd"):
                for which in ("best", "default"):
                    s = _rows(T["curves"], dim=d, kappa=k, method=m, rate=which)
                    s &= T["curves"]["rel_gap"] > 0
                    rs = _rows(T["runs"], dim=d, kappa=k, method=m, rate=which)
                    i0 = int(np.flatnonzero(rs)[0])
                    it = int(T["runs"]["iters"][i0])
                    cz = T["runs"]["censored"][i0] > 0
                    lr = T["runs"]["lr_over_L"][i0]
                    name = method_kw(m)["label"]
                    lab = (f"{name} {'tuned' if which == 'best' else 'default'} "
                           f"({lr:.3g}/L): {'>' if cz else ''}{it} it.")
                    kw = method_kw(m, int(s.sum()), label=lab)
                    if which == "best":
                        kw.update(mfc=kw["color"], lw=1.6)
                    else:
                        kw.update(lw=0.9)
                    # at k + 1 on the log axis, so the start and the first steps show
                    ax.plot(T["curves"]["iter"][s] + 1, T["curves"]["rel_gap"][s], **kw)
            ax.axhline(cfg["rel_tol"], color="0.5", lw=0.8, ls=(0, (1, 2)),
                       label="_tol")
            # room below the tolerance line (where every curve stops) for the legend, so that
            # it covers no curve
            ax.set(xscale="log", yscale="log", ylim=(cfg["rel_tol"] * 1e-12, 3))
            ax.set_title(rf"d = {d}, $\kappa$ = {k:g}")
            ax.legend(loc="lower left", fontsize=9, handlelength=2.2)
            if i == len(dims) - 1:
                ax.set_xlabel("iteration k + 1")
            if j == 0:
                ax.set_ylabel(r"$(f - f^*)/(f_0 - f^*)$")
    grid = cfg["lr_grid_over_L"]
    fig.suptitle(f"Seed-note OLS: iterations to relative gap {cfg['rel_tol']:g} (cap "
                 f"{cfg['maxiter']}); tuned = best of the default and {len(grid)} "
                 f"log-spaced rates in [{grid[0]:g}, {grid[-1]:g}]/L"
                 + (", and for GD its optimal 1/(L + μ)" if cfg.get("gd_optimal_step")
                    else ""))
    return fig


register("seed_ols", "The seed note's OLS experiments, default and tuned rates", so_config,
         None, so_render, cost=21, parts=Parts(so_split, _so_run, so_join, _so_weight))
