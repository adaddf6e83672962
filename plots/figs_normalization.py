"""Beyond the idealised BN (theory guide §10-§12): ``batch_size``, ``normalizations``,
``spectra``.

* ``batch_size``: full-data relative suboptimality ``(f - f*)/(f_0 - f*)`` of stochastic BNGD
  and SGD after a fixed number of epochs, against the batch size, with batch or population
  statistics (BN's epsilon 1e-5);
* ``normalizations``: ``1 - r`` of :func:`gdnp.rates.fit_rate` for GD, BNGD and GDNP against
  ``kappa`` over every norm, centred and uncentred (on shifted data, so that centring
  matters), BNGD's speed-up over GD per norm, and at the solution the top BN-coordinate
  Hessian eigenvalue and BNGD's distance moved per norm;
* ``spectra``: Hessian eigenvalues at the optimum in original and BN coordinates against
  ``kappa`` (OLS and the Gaussian halfspace), their condition numbers with C19's ``kappa*``,
  and GD's fitted ``1 - r`` against ``1 - max |1 - lr lambda_i|^2`` of the Hessian at the
  optimum.

Solver curves use the method styles of :mod:`gdnp.plots.style`; the series that are not
methods (norms, statistics, coordinates) are greys with markers and line styles of their own.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator, NullFormatter

from ._core import Parts, fit_row, gap_floor, register, run_solver
from .style import (
    figure,
    figure_legend,
    linear_over_a_decade,
    method_kw,
    relative_gap,
    theory_kw,
)

VARIANTS = [("batch", True), ("batch", False), ("weight", True), ("l1", True), ("l1", False),
            ("l3", True), ("l3", False), ("linf", True), ("linf", False)]
# norms are not methods: greys and markers of their own (none of METHOD_STYLE's markers);
# centred: filled marker, solid line; uncentred: half-filled marker, dashed line (hollow is
# the figures' mark of a fit not classified linear)
NORM_STYLE = {"batch": {"color": "0.0", "marker": "v"}, "weight": {"color": "0.5", "marker": "P"},
              "l1": {"color": "0.3", "marker": "<"}, "l3": {"color": "0.62", "marker": "h"},
              "linf": {"color": "0.15", "marker": ">"}}


def _label(kind: str, centered: bool) -> str:
    return kind if kind == "weight" else f"{kind}{'' if centered else ' (uncentred)'}"


def _norm_kw(kind: str, centered: bool, **over) -> dict:
    st = NORM_STYLE[kind]
    kw = {"color": st["color"], "marker": st["marker"], "ms": 5, "mew": 1.0,
          "mfc": st["color"], "fillstyle": "full" if centered else "left",
          "markerfacecoloralt": "white",
          "ls": "-" if centered else (0, (3, 1.5)), "label": _label(kind, centered)}
    kw.update(over)
    return kw


def _mask(tab: dict, **eq) -> np.ndarray:
    mask = np.ones(len(next(iter(tab.values()))), dtype=bool)
    for k, v in eq.items():
        col = tab[k]
        if col.dtype == object or isinstance(v, str):
            mask &= col.astype(str) == str(v)
        else:
            mask &= np.isclose(col.astype(float), float(v))
    return mask


def _fit(hist: dict, floor: float, tail: float = 0.5) -> dict:
    """:func:`gdnp.rates.fit_rate` of the gap over the last ``tail`` of its window above the
    floor: ``rate`` is the per-step contraction of the linear law whatever ``kind`` says."""
    from gdnp.rates import fit_rate

    return fit_rate(hist["iter"], hist["gap"], tail=tail, floor=floor)


def _nan_fit() -> dict:
    return {"kind": "undetermined", "rate": np.nan, "rate_se": np.nan,
            "one_minus_rate": np.nan, "one_minus_rate_se": np.nan, "order": np.nan,
            "order_se": np.nan, "window": (np.nan, np.nan), "n": 0}


# =========================================================================== batch_size
def batch_config(quick: bool) -> dict:
    return {"dim": 10, "n": 128 if quick else 512, "kappa": 100.0, "separation": 0.6,
            "epochs": 2 if quick else 10, "bn_eps": 1e-5,
            "batch_sizes": [2, 16, 128] if quick else [2, 4, 8, 16, 32, 64, 128, 256, 512],
            "problem_seed": 0, "solver_seed": 1}


def _batch_problem(cfg, name: str):
    """The ``"ols"`` or ``"halfspace"`` data problem (raw data, BN's epsilon)."""
    from gdnp.cli import build_problem
    from gdnp.problems import OLS, Halfspace

    if name == "ols":
        ols = build_problem("ols", kappa=cfg["kappa"], dim=cfg["dim"], seed=cfg["problem_seed"],
                            n=cfg["n"])
        return OLS.from_data(ols.data.X + ols.data.mean, ols.data.y, bn_eps=cfg["bn_eps"])
    hs = Halfspace.sample(cfg["dim"], cfg["kappa"], cfg["n"], separation=cfg["separation"],
                          seed=cfg["problem_seed"])
    return Halfspace.from_data(hs.X, hs.y, bn_eps=cfg["bn_eps"])


_BATCH_RUNS = [(m, s) for m in ("bngd", "gd") for s in ("batch", "population")]


def batch_split(cfg: dict) -> list:
    """One piece per (problem, batch size): its four runs draw the same batches."""
    return [(cfg, name, B) for name in ("ols", "halfspace") for B in cfg["batch_sizes"]]


def _batch_weight(piece) -> float:
    """Every batch size runs the same epochs; small batches cost a step (a batch) each."""
    cfg, name, B = piece
    return 1.0 + cfg["n"] / B


def batch_run(piece) -> dict:
    """BNGD and SGD with batch and population statistics at one batch size: per run the
    initial and final gap, the mean gap over the last epoch and the status."""
    from gdnp.stochastic import shared_batches

    cfg, name, B = piece
    p = shared_batches(_batch_problem(cfg, name))  # the four runs share their batches
    per_epoch = cfg["n"] // B
    steps = cfg["epochs"] * per_epoch
    out = {}
    for method, stat in _BATCH_RUNS:
        r = run_solver(p, method, steps, seed=cfg["solver_seed"], batch_size=B,
                       statistics=stat)
        gap = r["history"].get("gap", np.array([np.nan]))
        out[method, stat] = {"steps": steps, "gap0": float(gap[0]), "final_gap": float(gap[-1]),
                             "stationary_gap": float(np.mean(gap[-per_epoch:])),
                             "status": r["status"]}
    return out


def batch_join(cfg: dict, pieces: list) -> dict:
    runs = {(name, B): out for (_, name, B), out in zip(batch_split(cfg), pieces, strict=True)}
    tab = {k: [] for k in ("problem", "method", "statistics", "batch_size", "steps",
                           "final_gap", "stationary_gap", "status")}
    results = {}
    for name in ("ols", "halfspace"):
        gap0 = None
        for method in ("bngd", "gd"):
            for stat in ("batch", "population"):
                for B in cfg["batch_sizes"]:
                    r = runs[name, B][method, stat]
                    gap0 = r["gap0"] if gap0 is None else gap0
                    for key, val in (("problem", name), ("method", method),
                                     ("statistics", stat), ("batch_size", B),
                                     ("steps", r["steps"]), ("final_gap", r["final_gap"]),
                                     ("stationary_gap", r["stationary_gap"]),
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
    cfg, T, res = data["config"], data["tables"]["runs"], data["results"]
    titles = {"ols": "OLS",
              "halfspace": f"Gaussian halfspace (c = {cfg['separation']:g})"}
    fig, axes = figure("double", 3.1, 1, 2, sharey=True)
    for ax, name in zip(axes[0], ("ols", "halfspace"), strict=True):
        gap0 = res[name]["initial_gap"]  # the problems' scales differ: relative gaps
        for method in ("bngd", "gd"):
            for stat in ("batch", "population"):
                s = _mask(T, problem=name, method=method, statistics=stat)
                lab = f"{'BNGD' if method == 'bngd' else 'SGD'}, {stat} statistics"
                kw = method_kw(method, label=lab)
                # statistics are not methods: the marker's fill only (hollow is the figures'
                # mark of a fit not classified linear)
                kw.update(mfc=kw["color"], markerfacecoloralt="white",
                          fillstyle="full" if stat == "population" else "left")
                ax.loglog(T["batch_size"][s], relative_gap(T["stationary_gap"][s], gap0), **kw)
        ax.axhline(1.0, **theory_kw(3, r"start: $f_0 - f^*$"))
        ax.set_xlabel(f"batch size B (n = {cfg['n']})")
        ax.set_title(titles[name])
    axes[0, 0].set_ylabel(r"$(f - f^*)/(f_0 - f^*)$, full data," "\nmean over the last epoch")
    figure_legend(fig, axes, ncol=3)
    fig.suptitle(rf"Mini-batch statistics (theory guide §11): d = {cfg['dim']}, "
                 rf"$\kappa$ = {cfg['kappa']:g}, {cfg['epochs']} epochs, BN "
                 rf"$\epsilon$ = {cfg['bn_eps']:g}" "\n"
                 "half-filled: batch statistics, filled: population statistics")
    return fig


register("batch_size", "Mini-batch statistics: BNGD and SGD against the batch size",
         batch_config, None, batch_render, cost=14,
         parts=Parts(batch_split, batch_run, batch_join, _batch_weight))


# ======================================================================= normalizations
def norm_config(quick: bool) -> dict:
    return {"dim": 10, "n": 200 if quick else 1000, "separation": 0.9, "shift": 1.0,
            "kappas": [10.0, 100.0] if quick else [10.0, 100.0, 1000.0],
            "maxiter": 60 if quick else 400, "maxiter_gdnp": 15 if quick else 60,
            "problem_seed": 0, "solver_seed": 0}


def norm_split(cfg: dict) -> list:
    """One piece per kappa (its sample, reference and runs of every norm)."""
    return [(cfg, kappa) for kappa in cfg["kappas"]]


def norm_run(piece) -> dict:
    """Every norm at one kappa: the rows of ``rates`` and ``curvature`` and the per-kappa
    results (the data's kappa, GDNP's final-gap spread, BNGD's speed-up per norm)."""
    import gdnp
    from gdnp.problems import Halfspace

    cfg, kappa = piece
    rows, curv = [], []

    def add(kind, centered, method, r, floor):
        # every norm has the same f and f*: the reference is solved once per kappa
        if r["status"] >= 0:
            r["history"]["gap"] = r["history"]["fun"] - f_star
            fit = _fit(r["history"], floor)
            final = float(r["history"]["gap"][-1])
        else:
            fit, final = _nan_fit(), np.nan
        rows.append({"kappa": kappa, "normalization": kind, "centered": centered,
                     "method": method, **fit_row(fit), "final_gap": final,
                     "status": r["status"]})
        return float(fit["one_minus_rate"])

    base = Halfspace.sample(cfg["dim"], kappa, cfg["n"], separation=cfg["separation"],
                            seed=cfg["problem_seed"])
    X = base.X + cfg["shift"]  # raw data off-centre: the uncentred norms see the mean
    plain = Halfspace.from_data(X, base.y)
    sol = plain.solution()
    f_star = sol[1]
    floor = gap_floor(f_star)
    gd_gain = add("none", True, "gd", run_solver(plain, "gd", cfg["maxiter"],
                                                 seed=cfg["solver_seed"], reference=False),
                  floor)
    gdnp_gaps, speed = [], {}
    for kind, centered in VARIANTS:
        p = Halfspace.from_data(X, base.y, normalization=kind, centered=centered)
        rb = run_solver(p, "bngd", cfg["maxiter"], seed=cfg["solver_seed"], reference=False)
        ratio = add(kind, centered, "bngd", rb, floor) / gd_gain
        # fit_rate fits the last half before any rise: a run whose fitted window ends more
        # than 1% of its steps before its last (its gap rose after it) has the slope of a
        # window that is not its end, no speed-up to draw (NaN: listed as "gap rose")
        end, last = rows[-1]["window_end"], float(rb["history"]["iter"][-1])
        speed[_label(kind, centered)] = ratio if end >= 0.99 * last else np.nan
        rg = run_solver(p, "gdnp", cfg["maxiter_gdnp"], seed=cfg["solver_seed"],
                        reference=False)
        add(kind, centered, "gdnp", rg, floor)
        gdnp_gaps.append(float(rg["history"]["gap"][-1]))
        ev = gdnp.hessian_spectrum(p, sol[0], coords="bn")
        w0 = p.initial_point(cfg["solver_seed"])
        dist = float(np.linalg.norm(rb["direction"] - w0) / np.linalg.norm(w0))
        curv.append({"kappa": kappa, "normalization": kind, "centered": centered,
                     "top_eig": float(ev[-1]), "radial": float(ev.radial), "distance": dist})
    g = np.array(gdnp_gaps)
    # the batch norm (centred) is K19's GDNP, which starts from the start's own length; the
    # other norms first solve for it (their step identity needs d_g f = 0, theory guide §10)
    o = np.array([gap for (kind, c), gap in zip(VARIANTS, gdnp_gaps, strict=True)
                  if (kind, c) != ("batch", True)])
    return {"rates": rows, "curvature": curv, "kappa_data": float(plain.kappa),
            "spread": float((g.max() - g.min()) / g.min()),
            "spread_other": float((o.max() - o.min()) / o.min()), "speed": speed}


def norm_join(cfg: dict, pieces: list) -> dict:
    rates = {k: [] for k in ("kappa", "normalization", "centered", "method", "final_gap",
                             "status")}
    curv = {k: [] for k in ("kappa", "normalization", "centered", "top_eig", "radial",
                            "distance")}
    results = {"gdnp_final_gap_spread": {}, "gdnp_final_gap_spread_other_norms": {},
               "bngd_speedup_over_gd": {}, "kappa_data": {}}
    for kappa, out in zip(cfg["kappas"], pieces, strict=True):
        for table, rows in ((rates, out["rates"]), (curv, out["curvature"])):
            for row in rows:
                for key, val in row.items():
                    table.setdefault(key, []).append(val)
        results["kappa_data"][f"{kappa:g}"] = out["kappa_data"]
        results["gdnp_final_gap_spread"][f"{kappa:g}"] = out["spread"]
        results["gdnp_final_gap_spread_other_norms"][f"{kappa:g}"] = out["spread_other"]
        results["bngd_speedup_over_gd"][f"{kappa:g}"] = out["speed"]
    # how many of the top left panel's GD and BNGD fits are linear (the text cites them)
    first_order = [i for i, m in enumerate(rates["method"]) if m in ("gd", "bngd")]
    results["gd_bngd_fits"] = len(first_order)
    results["gd_bngd_linear_fits"] = sum(rates["kind"][i] == "linear" for i in first_order)
    # K19's GDNP rate on the gap, (1 - mu/L)^2 per direction step (Gaussian population; on
    # this finite, shifted sample a reference line, not a bound), at the data's kappa
    kd = np.array([results["kappa_data"][f"{k:g}"] for k in cfg["kappas"]])
    theory = {"kappa": list(cfg["kappas"]), "kappa_data": kd.tolist(),
              "k19": (1.0 - (1.0 - 1.0 / kd) ** 2).tolist()}
    return {"tables": {"rates": rates, "curvature": curv, "theory": theory},
            "results": results}


def norm_render(data: dict) -> plt.Figure:
    from .figs_rates import _draw_rates

    cfg, T, res = data["config"], data["tables"], data["results"]
    R, C, th = T["rates"], T["curvature"], T["theory"]
    kappas = np.asarray(cfg["kappas"], dtype=float)
    fig, axes = figure("double", 5.6, 2, 2)
    # (a) the methods: GD once, BNGD and GDNP median over the 9 norms, band = min-max
    ax = axes[0, 0]
    ax.plot(th["kappa"], th["k19"], **theory_kw(0, r"K19 (Gaussian model; no bound for a "
                                                    r"sample): $1-(1-1/\kappa_{data})^2$"))
    _draw_rates(ax, R, "kappa", kappas, ["gd", "bngd", "gdnp"])
    ax.set(xscale="log", yscale="log", xlabel=r"$\kappa$ of the sampling covariance",
           ylabel=r"$1 - r$ of $f - f^*$ (fit_rate)")
    ax.set_title(f"GD, BNGD: {cfg['maxiter']} steps, GDNP: {cfg['maxiter_gdnp']}; median "
                 "of 9 norms,\nband min-max; hollow: not linear over a decade")
    # (b) BNGD per norm: speed-up over GD, (1 - r_BNGD)/(1 - r_GD)
    ax = axes[0, 1]
    rising = []  # a fit whose gap rose over its window has no speed-up to show on a log axis
    for kind, centered in VARIANTS:
        lab = _label(kind, centered)
        sp = np.array([res["bngd_speedup_over_gd"][f"{k:g}"][lab] for k in kappas], float)
        rising += [k for k, v in zip(kappas, sp, strict=True) if not v > 0]
        ax.plot(kappas, np.where(sp > 0, sp, np.nan), **_norm_kw(kind, centered))
    ax.axhline(1.0, **theory_kw(3, "BNGD as fast as GD"))

    ax.set(xscale="log", yscale="log", xlabel=r"$\kappa$ of the sampling covariance",
           ylabel=r"$(1 - r_{BNGD}) / (1 - r_{GD})$")
    both = np.isin(R["method"].astype(str), ["gd", "bngd"])
    n_lin = int(np.sum(R["kind"][both] == "linear"))
    ax.set_title(f"BNGD's speed-up over GD (fitted 1 - r;\n{n_lin} of {int(both.sum())} fits "
                 "linear)" + (f"; {len(rising)} runs not drawn:\nBNGD's gap rose (kappa "
                              f"{', '.join(f'{k:g}' for k in sorted(set(rising)))})"
                              if rising else ""), fontsize="medium")
    # (c), (d) at the middle kappa, per norm: dots on linear axes (no truncated bars)
    kappa = cfg["kappas"][len(cfg["kappas"]) // 2]
    ypos = np.arange(len(VARIANTS))[::-1]
    for ax, col, title in ((axes[1, 0], "top_eig", r"top BN Hessian eigenvalue at $w^*$"),
                           (axes[1, 1], "distance",
                            r"BNGD: $\|w_T - w_0\|_2 / \|w_0\|_2$")):
        vals = []
        for y, (k, c) in zip(ypos, VARIANTS, strict=True):
            s = _mask(C, kappa=kappa, normalization=k, centered=c)
            v = float(C[col][s][0])
            vals.append(v)
            ax.plot([v], [y], **_norm_kw(k, c, ls="none", ms=6, label="_norm"))
        vals = np.array(vals)
        spread = (vals.max() - vals.min()) / vals.min()
        ax.set_yticks(ypos, [_label(k, c) for k, c in VARIANTS])
        ax.set_ylim(-0.7, len(VARIANTS) - 0.3)
        ax.set_title(f"{title}, $\\kappa$ = {kappa:g}\n(max - min)/min = {spread:.2g}")
    axes[1, 0].xaxis.set_major_locator(MaxNLocator(3))
    axes[1, 0].xaxis.set_major_formatter(FormatStrFormatter("%.4g"))
    axes[0, 1].yaxis.set_major_locator(LogLocator(10, subs=(0.5, 1, 2, 3, 5)))
    axes[0, 1].yaxis.set_major_formatter(FormatStrFormatter("%g"))
    axes[0, 1].yaxis.set_minor_formatter(NullFormatter())
    axes[1, 1].tick_params(labelleft=False)
    axes[1, 0].set_xlabel("eigenvalue")
    axes[1, 1].set_xlabel("relative distance moved")
    figure_legend(fig, axes[0], ncol=4)
    fig.suptitle(f"Norms of theory guide §10 on a shifted halfspace sample (d = {cfg['dim']}, "
                 f"n = {cfg['n']}, c = {cfg['separation']:g}, shift {cfg['shift']:g})")
    return fig


register("normalizations", "BN, weight, L1, L3 and L-infinity normalization: rates and "
         "curvature", norm_config, None, norm_render, cost=5,
         parts=Parts(norm_split, norm_run, norm_join))


# =============================================================================== spectra
def spectra_config(quick: bool) -> dict:
    return {"dim": 6 if quick else 10, "kappas": [10.0, 1000.0] if quick else
            [1.0, 10.0, 100.0, 1000.0, 10000.0], "separation": 0.9, "problem_seed": 0,
            "gd_maxiter": 300 if quick else 3000}


def spectra_split(cfg: dict) -> list:
    """One piece per kappa (both problems)."""
    return [(cfg, kappa) for kappa in cfg["kappas"]]


def spectra_run(piece) -> list:
    """The rows of ``eigenvalues``, ``conditions`` and ``gd_fits`` for one kappa (OLS, then
    the halfspace)."""
    import gdnp
    from gdnp.problems import OLS, Halfspace

    cfg, kappa = piece
    out = []
    for name in ("ols", "halfspace"):
        if name == "ols":
            p = OLS.random(cfg["dim"], kappa, seed=cfg["problem_seed"])
        else:
            p = Halfspace.random(cfg["dim"], kappa, separation=cfg["separation"],
                                 seed=cfg["problem_seed"])
        xs, fs = p.solution()
        orig = gdnp.hessian_spectrum(p, xs)
        bn = gdnp.hessian_spectrum(p, xs, coords="bn", include_length=False)
        eig = [{"problem": name, "kappa": kappa, "coords": coords, "value": float(v)}
               for coords, vals in (("original", orig), ("bn", bn)) for v in vals]
        Sw = p.S @ xs
        Hs = np.linalg.eigvalsh(p.S - np.outer(Sw, Sw) / float(xs @ Sw))[1:]
        r = run_solver(p, "gd", cfg["gd_maxiter"], seed=cfg["problem_seed"])
        lr = 1.0 / p.smoothness
        # the error contracts by max|1 - lr lambda_i| per step, the gap by its square
        rho = float(np.max(np.abs(1.0 - lr * np.asarray(orig))))
        floor = gap_floor(fs)
        fit = _fit(r["history"], floor, tail=0.3)
        cond = {"problem": name, "kappa": kappa, "cond_original": float(orig[-1] / orig[0]),
                "cond_bn": float(bn[-1] / bn[0]), "kappa_star": float(Hs[-1] / Hs[0]),
                "gd_rate_measured": float(fit["rate"]), "gd_rate_predicted": rho**2}
        row = {"problem": name, "kappa": kappa, **fit_row(fit),
               "predicted_one_minus_rate": float(-np.expm1(2.0 * np.log(rho)))
               if rho > 0 else 1.0,
               "final_gap": float(r["history"]["gap"][-1]), "floor": floor,
               "nit": int(r["history"]["iter"][-1])}
        out.append((eig, cond, row))
    return out


def spectra_join(cfg: dict, pieces: list) -> dict:
    eig = {k: [] for k in ("problem", "kappa", "coords", "value")}
    cond = {k: [] for k in ("problem", "kappa", "cond_original", "cond_bn", "kappa_star",
                            "gd_rate_measured", "gd_rate_predicted")}
    fits = {k: [] for k in ("problem", "kappa", "predicted_one_minus_rate", "final_gap",
                            "floor", "nit")}
    for piece in pieces:
        for eig_rows, cond_row, fit_row_ in piece:
            for table, rows in ((eig, eig_rows), (cond, [cond_row]), (fits, [fit_row_])):
                for r in rows:
                    for key, val in r.items():
                        table.setdefault(key, []).append(val)
    return {"tables": {"eigenvalues": eig, "conditions": cond, "gd_fits": fits},
            "results": {"conditions": {k: [float(v) if not isinstance(v, str) else v
                                           for v in vals] for k, vals in cond.items()}}}


# coordinates and problems are not methods: greys and markers of their own
_COORD_STYLE = {"original": {"color": "0.0", "marker": "_", "ms": 9, "mew": 1.6},
                "bn": {"color": "0.55", "marker": "_", "ms": 9, "mew": 2.4}}
_PROBLEM_MARKER = {"ols": "v", "halfspace": "P"}
_PROBLEM_TITLE = {"ols": "OLS", "halfspace": "halfspace"}


def spectra_render(data: dict) -> plt.Figure:
    cfg = data["config"]
    E, C, F = (data["tables"][k] for k in ("eigenvalues", "conditions", "gd_fits"))
    fig, axes = figure("double", 6.6, 2, 2)
    for ax, name in zip(axes[0], ("ols", "halfspace"), strict=True):
        for coords, dx in (("original", 0.85), ("bn", 1.18)):
            s = _mask(E, problem=name, coords=coords)
            lab = ("original coordinates" if coords == "original"
                   else "BN coordinates (direction block on $w^\\perp$)")
            ax.plot(E["kappa"][s] * dx, E["value"][s], ls="none", label=lab,
                    **_COORD_STYLE[coords])
        ax.set(xscale="log", yscale="log", xlabel=r"$\kappa$")
        ax.set_title(f"{'OLS' if name == 'ols' else 'Gaussian halfspace'}: Hessian "
                     "eigenvalues")
    axes[0, 0].set_ylabel("eigenvalue")
    # condition numbers; C19's kappa* of H* drawn as the theory line
    ax = axes[1, 0]
    for i, name in enumerate(("ols", "halfspace")):
        s = _mask(C, problem=name)
        k, mk = C["kappa"][s], _PROBLEM_MARKER[name]
        ax.plot(k, C["cond_original"][s], color="0.0", ls="-", marker=mk, mfc="white",
                ms=6, label=f"{_PROBLEM_TITLE[name]}: original")
        ax.plot(k, C["cond_bn"][s], color="0.5", ls="none", marker=mk, ms=6,
                label=f"{_PROBLEM_TITLE[name]}: BN, direction block")
        ax.plot(k, C["kappa_star"][s], **theory_kw(i, rf"C19 $\kappa^*$ of $H^*$, "
                                                      f"{_PROBLEM_TITLE[name]}"))
    ax.set(xscale="log", yscale="log", xlabel=r"$\kappa$",
           ylabel="condition number at the optimum")
    ax.set_title("condition numbers at the optimum")
    # GD: fitted 1 - r (method style; hollow = fit_rate not linear) against the prediction
    ax = axes[1, 1]
    for i, name in enumerate(("ols", "halfspace")):
        s = _mask(F, problem=name)
        k = F["kappa"][s]
        ax.plot(k, F["predicted_one_minus_rate"][s],
                **theory_kw(i, rf"$1-\max_i|1-\eta\lambda_i|^2$, {_PROBLEM_TITLE[name]}"))
        y = np.asarray(F["one_minus_rate"][s], dtype=float)
        ok = np.isfinite(y) & (y > 0)
        ax.plot(k[ok], y[ok], **method_kw("gd", label=f"GD fitted, {_PROBLEM_TITLE[name]}"))
        lin = ok & linear_over_a_decade(F["kind"][s], F["decades"][s])
        gd = method_kw("gd", label="_linear")
        ax.plot(k[lin], y[lin], **{**gd, "ls": "none", "mfc": gd["color"]})
        if ok.any():
            j = int(np.flatnonzero(ok)[-1])
            ax.annotate(_PROBLEM_TITLE[name], (k[j], y[j]), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=9)
    ax.set(xscale="log", yscale="log", xlabel=r"$\kappa$",
           ylabel=r"GD: $1 - r$ of $f - f^*$ per step")
    ax.set_title(f"GD, fit_rate on the last 30% of the window ({cfg['gd_maxiter']} steps)\n"
                 "filled: linear over >= 1 decade; hollow: not")
    figure_legend(fig, axes, ncol=3)
    fig.suptitle(f"Hessian spectra at the optimum (theory guide §12): d = {cfg['dim']}, "
                 f"halfspace c = {cfg['separation']:g}")
    return fig


register("spectra", "Hessian spectra at the optimum in original and BN coordinates",
         spectra_config, None, spectra_render, cost=4,
         parts=Parts(spectra_split, spectra_run, spectra_join))
