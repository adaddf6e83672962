"""Beyond the idealised BN (theory guide §10-§12): ``batch_size``, ``normalizations``,
``spectra``.

* ``batch_size``: full-data suboptimality of stochastic BNGD and SGD after a fixed number of
  epochs, against the batch size, with batch or population statistics (BN's epsilon 1e-5);
* ``normalizations``: asymptotic ``1 - r`` of GD, BNGD and GDNP against ``kappa`` for every
  norm, centred and uncentred (on shifted data, so that centring matters), and at the
  solution the top BN-coordinate Hessian eigenvalue and BNGD's distance moved per norm;
* ``spectra``: Hessian eigenvalues at the optimum in original and BN coordinates against
  ``kappa`` (OLS and the Gaussian halfspace), with C19's ``kappa*`` drawn, and GD's measured
  halfspace rate against ``max |1 - lr lambda_i|`` of the Hessian at the optimum.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ._core import METHOD_STYLE, gap_floor, register, run_solver

VARIANTS = [("batch", True), ("batch", False), ("weight", True), ("l1", True), ("l1", False),
            ("l3", True), ("l3", False), ("linf", True), ("linf", False)]
NORM_COLOR = {"batch": "#2ca02c", "weight": "#9467bd", "l1": "#8c564b", "l3": "#e377c2",
              "linf": "#17becf"}


def _label(kind: str, centered: bool) -> str:
    return kind if kind == "weight" else f"{kind}{'' if centered else ' (uncentred)'}"


def _mask(tab: dict, **eq) -> np.ndarray:
    mask = np.ones(len(next(iter(tab.values()))), dtype=bool)
    for k, v in eq.items():
        col = tab[k]
        if col.dtype == object or isinstance(v, str):
            mask &= col.astype(str) == str(v)
        else:
            mask &= np.isclose(col.astype(float), float(v))
    return mask


def _tail_rate(hist: dict, floor: float, tail: float = 0.5) -> float:
    """Per-step rate ``r`` of the gap over the last ``tail`` of the positive gaps above the
    floor (least squares on ``log gap``), as :func:`gdnp.rates.fit_order`'s linear fit."""
    from gdnp.rates import fit_order

    return float(fit_order(hist["iter"], hist["gap"], tail=tail, floor=floor)["rate"])


# =========================================================================== batch_size
def batch_config(quick: bool) -> dict:
    return {"dim": 10, "n": 128 if quick else 512, "kappa": 100.0, "separation": 0.6,
            "epochs": 2 if quick else 10, "bn_eps": 1e-5,
            "batch_sizes": [2, 16, 128] if quick else [2, 4, 8, 16, 32, 64, 128, 256, 512],
            "problem_seed": 0, "solver_seed": 1}


def _batch_problems(cfg):
    from gdnp.cli import build_problem
    from gdnp.problems import OLS, Halfspace

    ols = build_problem("ols", kappa=cfg["kappa"], dim=cfg["dim"], seed=cfg["problem_seed"],
                        n=cfg["n"])
    hs = Halfspace.sample(cfg["dim"], cfg["kappa"], cfg["n"], separation=cfg["separation"],
                          seed=cfg["problem_seed"])
    return {"ols": OLS.from_data(ols.data.X + ols.data.mean, ols.data.y, bn_eps=cfg["bn_eps"]),
            "halfspace": Halfspace.from_data(hs.X, hs.y, bn_eps=cfg["bn_eps"])}


def batch_compute(cfg: dict) -> dict:
    tab = {k: [] for k in ("problem", "method", "statistics", "batch_size", "steps",
                           "final_gap", "stationary_gap", "status")}
    results = {}
    for name, p in _batch_problems(cfg).items():
        gap0 = None
        for method in ("bngd", "gd"):
            for stat in ("batch", "population"):
                for B in cfg["batch_sizes"]:
                    per_epoch = cfg["n"] // B
                    steps = cfg["epochs"] * per_epoch
                    r = run_solver(p, method, steps, seed=cfg["solver_seed"], batch_size=B,
                                   statistics=stat)
                    gap = r["history"].get("gap", np.array([np.nan]))
                    gap0 = float(gap[0]) if gap0 is None else gap0
                    for key, val in (("problem", name), ("method", method),
                                     ("statistics", stat), ("batch_size", B),
                                     ("steps", steps), ("final_gap", float(gap[-1])),
                                     ("stationary_gap", float(np.mean(gap[-per_epoch:]))),
                                     ("status", r["status"])):
                        tab[key].append(val)
        results[name] = {"initial_gap": gap0}
    # headline numbers: BNGD with B = 32 (or the nearest size run) and eps = 1e-5
    sizes = np.array(cfg["batch_sizes"])
    b32 = int(sizes[np.argmin(np.abs(np.log(sizes / 32.0)))])
    for name in results:
        for stat in ("batch", "population"):
            for method in ("bngd", "gd"):
                i = [j for j in range(len(tab["problem"])) if tab["problem"][j] == name and
                     tab["method"][j] == method and tab["statistics"][j] == stat and
                     tab["batch_size"][j] == b32][0]
                results[name][f"{method}_{stat}_B{b32}_stationary_gap"] = tab["stationary_gap"][i]
            i = [j for j in range(len(tab["problem"])) if tab["problem"][j] == name and
                 tab["method"][j] == "bngd" and tab["statistics"][j] == stat and
                 tab["batch_size"][j] == int(sizes.min())][0]
            results[name][f"bngd_{stat}_B{int(sizes.min())}_stationary_gap"] = \
                tab["stationary_gap"][i]
    return {"tables": {"runs": tab}, "results": results}


def batch_render(data: dict) -> plt.Figure:
    cfg, T = data["config"], data["tables"]["runs"]
    names = ("ols", "halfspace")
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.8))
    for ax, name in zip(axes, names, strict=True):
        for method in ("bngd", "gd"):
            for stat, ls in (("batch", "-"), ("population", "--")):
                s = _mask(T, problem=name, method=method, statistics=stat)
                st = METHOD_STYLE[method]
                lab = f"{'BNGD' if method == 'bngd' else 'SGD'}, {stat} statistics"
                ax.loglog(T["batch_size"][s], T["stationary_gap"][s], ls, color=st["color"],
                          marker=st["marker"], ms=4, label=lab)
        ax.axhline(data["results"][name]["initial_gap"], color="0.5", lw=0.8, ls=":",
                   label="initial gap")
        ax.set_xlabel("batch size B")
        ax.set_ylabel("full-data $f - f^*$, mean over the last epoch")
        ax.set_title(f"{name} (n = {cfg['n']}, d = {cfg['dim']}, $\\kappa$ = {cfg['kappa']:g}), "
                     f"{cfg['epochs']} epochs, eps = {cfg['bn_eps']:g}")
        ax.legend(loc="best")
    fig.tight_layout()
    return fig


register("batch_size", "Mini-batch statistics: BNGD and SGD against the batch size",
         batch_config, batch_compute, batch_render)


# ======================================================================= normalizations
def norm_config(quick: bool) -> dict:
    return {"dim": 10, "n": 200 if quick else 1000, "separation": 0.9, "shift": 1.0,
            "kappas": [10.0, 100.0] if quick else [10.0, 100.0, 1000.0],
            "maxiter": 60 if quick else 400, "maxiter_gdnp": 15 if quick else 60,
            "problem_seed": 0, "solver_seed": 0}


def norm_compute(cfg: dict) -> dict:
    import gdnp
    from gdnp.problems import Halfspace

    rates = {k: [] for k in ("kappa", "normalization", "centered", "method", "rate",
                             "one_minus_r", "final_gap", "status")}
    curv = {k: [] for k in ("kappa", "normalization", "centered", "top_eig", "radial",
                            "distance")}
    results = {"gdnp_final_gap_spread": {}, "bngd_speedup_over_gd": {}}

    def add(kappa, kind, centered, method, r, floor):
        # every norm has the same f and f*: the reference is solved once per kappa
        r["history"]["gap"] = r["history"]["fun"] - f_star
        rate = _tail_rate(r["history"], floor) if r["status"] >= 0 else np.nan
        for key, val in (("kappa", kappa), ("normalization", kind), ("centered", centered),
                         ("method", method), ("rate", rate), ("one_minus_r", 1.0 - rate),
                         ("final_gap", float(r["history"]["gap"][-1])),
                         ("status", r["status"])):
            rates[key].append(val)
        return 1.0 - rate

    for kappa in cfg["kappas"]:
        base = Halfspace.sample(cfg["dim"], kappa, cfg["n"], separation=cfg["separation"],
                                seed=cfg["problem_seed"])
        X = base.X + cfg["shift"]  # raw data off-centre: the uncentred norms see the mean
        plain = Halfspace.from_data(X, base.y)
        sol = plain.solution()
        f_star = sol[1]
        floor = gap_floor(f_star)
        gd_gain = add(kappa, "none", True, "gd", run_solver(plain, "gd", cfg["maxiter"],
                                                            seed=cfg["solver_seed"],
                                                            reference=False), floor)
        gdnp_gaps, speed = [], {}
        for kind, centered in VARIANTS:
            p = Halfspace.from_data(X, base.y, normalization=kind, centered=centered)
            rb = run_solver(p, "bngd", cfg["maxiter"], seed=cfg["solver_seed"], reference=False)
            speed[_label(kind, centered)] = add(kappa, kind, centered, "bngd", rb, floor) / \
                gd_gain
            rg = run_solver(p, "gdnp", cfg["maxiter_gdnp"], seed=cfg["solver_seed"],
                            reference=False)
            add(kappa, kind, centered, "gdnp", rg, floor)
            gdnp_gaps.append(float(rg["history"]["gap"][-1]))
            ev = gdnp.hessian_spectrum(p, sol[0], coords="bn")
            w0 = p.initial_point(cfg["solver_seed"])
            dist = float(np.linalg.norm(rb["direction"] - w0) / np.linalg.norm(w0))
            for key, val in (("kappa", kappa), ("normalization", kind), ("centered", centered),
                             ("top_eig", float(ev[-1])), ("radial", float(ev.radial)),
                             ("distance", dist)):
                curv[key].append(val)
        g = np.array(gdnp_gaps)
        results["gdnp_final_gap_spread"][f"{kappa:g}"] = float((g.max() - g.min()) / g.min())
        results["bngd_speedup_over_gd"][f"{kappa:g}"] = speed
    return {"tables": {"rates": rates, "curvature": curv}, "results": results}


def norm_render(data: dict) -> plt.Figure:
    cfg, T = data["config"], data["tables"]
    R, C = T["rates"], T["curvature"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.0))
    ax = axes[0]
    s = _mask(R, method="gd")
    ax.loglog(R["kappa"][s], R["one_minus_r"][s], "k-o", ms=4, label="GD (no normalization)")
    for kind, centered in VARIANTS:
        for method, mk in (("bngd", "^"), ("gdnp", "D")):
            s = _mask(R, method=method, normalization=kind, centered=centered)
            ax.loglog(R["kappa"][s], R["one_minus_r"][s], "-" if centered else "--",
                      marker=mk, ms=3, color=NORM_COLOR[kind],
                      label=f"{METHOD_STYLE[method]['label']}, {_label(kind, centered)}"
                      if method == "bngd" or kind == "batch" and centered else None)
    ax.set_xlabel(r"$\kappa$")
    ax.set_ylabel("asymptotic $1 - r$ of the gap per iteration")
    ax.set_title("halfspace from data: GDNP (diamonds) is the same for every norm")
    ax.legend(loc="best", fontsize=6)
    kappa = cfg["kappas"][len(cfg["kappas"]) // 2]
    labels = [_label(k, c) for k, c in VARIANTS]
    for ax, col, title in ((axes[1], "top_eig", "top BN Hessian eigenvalue at $w^*$ (w = x*)"),
                           (axes[2], "distance", r"BNGD: $\|w_T - w_0\|_2 / \|w_0\|_2$")):
        vals = []
        for k, c in VARIANTS:
            s = _mask(C, kappa=kappa, normalization=k, centered=c)
            vals.append(float(C[col][s][0]))
        ax.bar(range(len(vals)), vals, color=[NORM_COLOR[k] for k, _ in VARIANTS],
               hatch=None)
        ax.set_xticks(range(len(vals)), labels, rotation=60, ha="right")
        ax.set_yscale("log")
        ax.set_title(f"{title}, $\\kappa$ = {kappa:g}")
    fig.tight_layout()
    return fig


register("normalizations", "BN, weight, L1, L3 and L-infinity normalization: rates and "
         "curvature", norm_config, norm_compute, norm_render)


# =============================================================================== spectra
def spectra_config(quick: bool) -> dict:
    return {"dim": 6 if quick else 10, "kappas": [10.0, 1000.0] if quick else
            [1.0, 10.0, 100.0, 1000.0, 10000.0], "separation": 0.9, "problem_seed": 0,
            "gd_maxiter": 300 if quick else 3000}


def spectra_compute(cfg: dict) -> dict:
    import gdnp
    from gdnp.problems import OLS, Halfspace

    eig = {k: [] for k in ("problem", "kappa", "coords", "value")}
    cond = {k: [] for k in ("problem", "kappa", "cond_original", "cond_bn", "kappa_star",
                            "gd_rate_measured", "gd_rate_predicted")}
    for kappa in cfg["kappas"]:
        for name in ("ols", "halfspace"):
            if name == "ols":
                p = OLS.random(cfg["dim"], kappa, seed=cfg["problem_seed"])
            else:
                p = Halfspace.random(cfg["dim"], kappa, separation=cfg["separation"],
                                     seed=cfg["problem_seed"])
            xs, fs = p.solution()
            orig = gdnp.hessian_spectrum(p, xs)
            bn = gdnp.hessian_spectrum(p, xs, coords="bn", include_length=False)
            for coords, vals in (("original", orig), ("bn", bn)):
                for v in vals:
                    for key, val in (("problem", name), ("kappa", kappa), ("coords", coords),
                                     ("value", float(v))):
                        eig[key].append(val)
            Sw = p.S @ xs
            Hs = np.linalg.eigvalsh(p.S - np.outer(Sw, Sw) / float(xs @ Sw))[1:]
            r = run_solver(p, "gd", cfg["gd_maxiter"], seed=cfg["problem_seed"])
            lr = 1.0 / p.smoothness
            # the error contracts by max|1 - lr lambda_i| per step, the gap by its square
            pred = float(np.max(np.abs(1.0 - lr * np.asarray(orig)))) ** 2
            meas = _tail_rate(r["history"], gap_floor(fs), tail=0.3)
            for key, val in (("problem", name), ("kappa", kappa),
                             ("cond_original", float(orig[-1] / orig[0])),
                             ("cond_bn", float(bn[-1] / bn[0])),
                             ("kappa_star", float(Hs[-1] / Hs[0])),
                             ("gd_rate_measured", meas), ("gd_rate_predicted", pred)):
                cond[key].append(val)
    return {"tables": {"eigenvalues": eig, "conditions": cond},
            "results": {"conditions": {k: [float(v) if not isinstance(v, str) else v
                                           for v in vals] for k, vals in cond.items()}}}


def spectra_render(data: dict) -> plt.Figure:
    E, C = data["tables"]["eigenvalues"], data["tables"]["conditions"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.0))
    for ax, name in zip(axes[:2], ("ols", "halfspace"), strict=True):
        for coords, color, dx in (("original", "#1f77b4", 0.97), ("bn", "#2ca02c", 1.03)):
            s = _mask(E, problem=name, coords=coords)
            ax.loglog(E["kappa"][s] * dx, E["value"][s], "o", ms=3, color=color,
                      label=f"{coords} coordinates" + (" (direction block, tangent)"
                                                       if coords == "bn" else ""))
        ax.set_xlabel(r"$\kappa$")
        ax.set_ylabel("Hessian eigenvalues at the optimum")
        ax.set_title(name)
        ax.legend(loc="best")
    ax = axes[2]
    for name, mk in (("ols", "o"), ("halfspace", "s")):
        s = _mask(C, problem=name)
        k = C["kappa"][s]
        ax.loglog(k, C["cond_original"][s], "-", marker=mk, color="#1f77b4", ms=4,
                  label=f"{name}: cond, original")
        ax.loglog(k, C["cond_bn"][s], "-", marker=mk, color="#2ca02c", ms=4,
                  label=f"{name}: cond, BN (tangent)")
        ax.loglog(k, C["kappa_star"][s], ":", marker=mk, color="k", ms=4, mfc="none",
                  label=rf"{name}: C19 $\kappa^*$ of $H^*$")
    ax.set_xlabel(r"$\kappa$")
    ax.set_ylabel("condition number at the optimum")
    ax.legend(loc="best", fontsize=6)
    fig.tight_layout()
    return fig


register("spectra", "Hessian spectra at the optimum in original and BN coordinates",
         spectra_config, spectra_compute, spectra_render)
