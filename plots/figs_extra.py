"""``mlp`` (teacher-student tanh MLP, theory guide §5) and ``real_data`` (scikit-learn datasets)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ._core import FigureSkipped, Parts, fit_row, gap_floor, register, run_solver, table_fit, thin
from .figs_halfspace import _rows, _short_fit
from .style import figure, figure_legend, method_kw


# ============================================================================ mlp
def mlp_config(quick: bool) -> dict:
    return {"dim": 5, "hidden": 3, "kappa": 10.0, "n": 400 if quick else 1000,
            "loss": "logistic", "methods": ["gd", "bngd", "gdnp"],
            "maxiter": 12 if quick else 300, "problem_seed": 1,
            # the L-BFGS reference costs ~20 s: quick mode uses the best iterate instead
            "reference": not quick, "solver_seed": 0,
            "n_jobs": 1 if quick else 2}


def _mlp_problem(cfg):
    from gdnp.problems import MLP

    return MLP.random(cfg["dim"], cfg["hidden"], cfg["kappa"], cfg["n"], seed=cfg["problem_seed"],
                      loss=cfg["loss"])


def _mlp_run(args):
    cfg, method = args
    p = _mlp_problem(cfg)
    if method == "reference":  # L-BFGS reference, in parallel with the runs
        return method, (float(p.solution()[1]) if cfg["reference"] else np.inf)
    r = run_solver(p, method, cfg["maxiter"], seed=cfg["solver_seed"], collect_x=True,
                   reference=False)
    return method, r


def mlp_split(cfg: dict) -> list:
    """One piece for the L-BFGS reference and one per method."""
    return [(cfg, m) for m in ["reference", *cfg["methods"]]]


def _mlp_weight(piece) -> float:
    return 4.0 if piece[1] == "reference" else 1.0


def mlp_join(cfg: dict, out: list) -> dict:
    p = _mlp_problem(cfg)
    out = list(out)
    f_star = out.pop(0)[1]
    h, d = cfg["hidden"], p.d
    un = p.u / np.linalg.norm(p.u)
    f_ref = min([f_star] + [float(np.min(r["funs"])) for _, r in out if len(r["funs"])])
    curves = {"method": [], "iter": [], "fun": [], "gap": []}
    angles = {"method": [], "iter": [], "unit": [], "angle_deg": []}
    results = {"f_star": f_star, "f_ref": f_ref, "runs": {}}
    for m, r in out:
        # the callback sees iterates 0..nit-1 (the last record stops without a callback)
        xs, funs = r["xs"], r["funs"]
        results["runs"][m] = {"status": r["status"], "error": r["error"],
                              "iterations": int(len(funs))}
        idx = thin(len(funs))
        curves["method"] += [m] * idx.size
        curves["iter"] += idx.tolist()
        curves["fun"] += funs[idx].tolist()
        curves["gap"] += (funs[idx] - f_ref).tolist()
        for k in idx:
            W = xs[k][: h * d].reshape(h, d)
            SW = W @ p.S
            cos = np.abs(SW @ un) / np.maximum(np.linalg.norm(SW, axis=1), 1e-300)
            ang = np.degrees(np.arccos(np.clip(cos, 0.0, 1.0)))
            for i in range(h):
                angles["method"].append(m)
                angles["iter"].append(int(k))
                angles["unit"].append(i)
                angles["angle_deg"].append(float(ang[i]))
        final = angles["angle_deg"][-h:] if len(idx) else []
        results["runs"][m]["final_angles_deg"] = final
    return {"tables": {"curves": curves, "angles": angles}, "results": results}


_UNIT_STYLE = [{"color": "0.0", "ls": "-"}, {"color": "0.45", "ls": (0, (6, 2))},
               {"color": "0.7", "ls": "-."}, {"color": "0.3", "ls": (0, (1.5, 1.5))}]


def mlp_render(data: dict) -> plt.Figure:
    cfg, T, res = data["config"], data["tables"], data["results"]
    n = len(cfg["methods"])
    fig, axes = figure("double", 2.9, 1, 1 + n)
    ax = axes[0, 0]
    for m in cfg["methods"]:
        s = _rows(T["curves"], method=m) & (T["curves"]["gap"] > 0)
        run = res["runs"][m]
        lab = method_kw(m)["label"] + (" (solver error)" if run["error"] else "")
        ax.semilogy(T["curves"]["iter"][s], T["curves"]["gap"][s],
                    **method_kw(m, int(s.sum()), label=lab))
    ax.set_xlabel("iteration")
    ax.set_ylabel(r"$f - f_{\mathrm{ref}}$")
    ax.set_title("loss")
    for ax, m in zip(axes[0, 1:], cfg["methods"], strict=True):
        for i in range(cfg["hidden"]):
            s = _rows(T["angles"], method=m, unit=i)
            ax.plot(T["angles"]["iter"][s], T["angles"]["angle_deg"][s],
                    **_UNIT_STYLE[i % 4], label=f"unit {i + 1}")
        ax.set_title(f"{method_kw(m)['label']}: " + r"$\angle(S\tilde w_i, u)$")
        ax.set_xlabel("iteration")
        ax.set_ylim(0, 90)
    axes[0, 1].set_ylabel("degrees")
    figure_legend(fig, axes, ncol=6)
    fig.suptitle(f"Teacher-student tanh MLP (d = {cfg['dim']}, m = {cfg['hidden']}, "
                 rf"$\kappa$ = {cfg['kappa']:g}); $f_{{\mathrm{{ref}}}}$ = best of L-BFGS and "
                 "all iterates; a GDNP iteration is one sweep over the units, output weights fixed")
    return fig


register("mlp", "Teacher-student MLP: the angle of S w~_i to u (0: w~_i along S^-1 u)",
         mlp_config, None, mlp_render, cost=5,
         parts=Parts(mlp_split, _mlp_run, mlp_join, _mlp_weight))


# ============================================================================ real_data
def real_config(quick: bool) -> dict:
    return {"methods": ["gd", "agd", "bngd", "gdnp"], "maxiter": 30 if quick else 1000,
            "loss": "logistic", "raw_ridge": 0.0, "solver_seed": 0,
            # quick mode leaves out the raw breast cancer data: its reference solve alone takes
            # ~45 s (L-BFGS at cond(S) ~ 6e11)
            "datasets": (["breast_cancer_std", "diabetes"] if quick else
                         ["breast_cancer_raw", "breast_cancer_std", "diabetes"]),
            "n_jobs": 1 if quick else 2}


def _sklearn_datasets():
    try:
        import sklearn.datasets as ds
    except ImportError as exc:
        raise FigureSkipped(
            "real_data needs scikit-learn (its bundled datasets; nothing is downloaded): "
            "pip install 'gdnp[data]'") from exc
    return ds


def _real_problem(cfg, name):
    from gdnp.problems import OLS, Halfspace

    ds = _sklearn_datasets()
    if name.startswith("breast_cancer"):
        X, t = ds.load_breast_cancer(return_X_y=True)
        y = 2.0 * t - 1.0
        if name.endswith("std"):
            return Halfspace.from_data((X - X.mean(0)) / X.std(0), y, loss=cfg["loss"])
        # raw-centred: full rank but cond(S) ~ 6e11 trips the singularity check (rtol 1e-10)
        return Halfspace.from_data(X, y, loss=cfg["loss"], ridge=cfg["raw_ridge"])
    X, y = ds.load_diabetes(return_X_y=True, scaled=False)
    return OLS.from_data(X, y)


def _real_run(args):
    """All methods on one dataset (one process: the reference solve is cached per problem)."""
    import gdnp

    cfg, name = args
    p = _real_problem(cfg, name)
    f_star = float(p.solution()[1])
    info = {"kappa": p.kappa, "n": int(p.X.shape[0]), "d": int(p.S.shape[0]), "f_star": f_star}
    out = []
    for method in cfg["methods"]:
        r = run_solver(p, method, cfg["maxiter"], seed=cfg["solver_seed"])
        h = r["history"]
        fit = gdnp.rates.fit_rate(h["iter"] if h else [], h["gap"] if h else [],
                                  floor=gap_floor(f_star))
        info = {**info, "floor": gap_floor(f_star)}
        out.append((name, method, r, fit, info))
    return out


def real_split(cfg: dict) -> list:
    """One piece per dataset (its runs share the reference solve)."""
    return [(cfg, n) for n in cfg["datasets"]]


def _real_weight(piece) -> float:
    return 3.0 if piece[1] == "breast_cancer_raw" else 1.0


def real_join(cfg: dict, results: list) -> dict:
    out = [row for rows in results for row in rows]
    curves = {"dataset": [], "method": [], "metric": [], "iter": [], "value": []}
    fits = {"dataset": [], "method": [], "final_gap": [], "status": []}
    results = {"datasets": {}, "errors": []}
    for name, m, r, fit, info in out:
        results["datasets"][name] = info
        if r["error"]:
            results["errors"].append({"dataset": name, "method": m, "error": r["error"]})
        h = r["history"]
        if h:
            idx = thin(len(h["iter"]))
            for metric in ("gap", "grad_norm2"):
                curves["dataset"] += [name] * idx.size
                curves["method"] += [m] * idx.size
                curves["metric"] += [metric] * idx.size
                curves["iter"] += h["iter"][idx].tolist()
                scale = h[metric][0] if h[metric][0] > 0 else 1.0  # relative: units differ
                curves["value"] += (h[metric][idx] / scale).tolist()
        fits["dataset"].append(name)
        fits["method"].append(m)
        for k, v in fit_row(fit).items():
            fits.setdefault(k, []).append(v)
        results[f"{name}_{m}_kind"] = fit["kind"]
        results[f"{name}_{m}_1mr"] = fit["one_minus_rate"]
        results[f"{name}_{m}_final_rel_gap"] = (float(h["gap"][-1] / h["gap"][0]) if h
                                                else np.nan)
        fits["final_gap"].append(float(h["gap"][-1]) if h else np.nan)
        fits["status"].append(r["status"])
    return {"tables": {"curves": curves, "fits": fits}, "results": results}


def real_render(data: dict) -> plt.Figure:
    cfg, T, res = data["config"], data["tables"], data["results"]
    names = cfg["datasets"]
    fig, axes = figure("double", 5.6, 2, len(names), sharex="col")
    for j, name in enumerate(names):
        info = res["datasets"][name]
        lines = []
        for i, metric in enumerate(("gap", "grad_norm2")):
            ax = axes[i, j]
            for m in cfg["methods"]:
                s = _rows(T["curves"], dataset=name, method=m, metric=metric)
                s &= T["curves"]["value"] > 0
                ax.semilogy(T["curves"]["iter"][s], T["curves"]["value"][s],
                            **method_kw(m, int(s.sum())))
                if metric == "gap":
                    fs = _rows(T["fits"], dataset=name, method=m)
                    lines.append(f"{m.upper()}: {_short_fit(table_fit(T['fits'], fs))}")
            if i == 0:
                ax.set_title(f"{name.replace('_', ' ')}\nn = {info['n']}, d = {info['d']}\n"
                             rf"$\kappa(S)$ = {info['kappa']:.2g}")
            else:
                ax.set_xlabel("iteration")
            if j == 0:
                ax.set_ylabel(r"$(f - f^*)/(f_0 - f^*)$" if i == 0 else
                              r"$\|\nabla f\|^2_{S^{-1}}$ / initial")
        # the fits' box in the lower part of the gap panel, below every curve: the axis
        # reaches down to v_min^1.8 (the curves then fill the top 55% of its decades)
        shown = T["curves"]["value"][_rows(T["curves"], dataset=name, metric="gap")]
        shown = shown[shown > 0]
        if shown.size and shown.min() < 1.0:
            axes[0, j].set_ylim(bottom=float(shown.min()) ** 1.8)
        axes[0, j].text(0.03, 0.03, "\n".join(lines), transform=axes[0, j].transAxes,
                        fontsize=9, va="bottom", bbox={"fc": "white", "ec": "0.8", "lw": 0.5})
    figure_legend(fig, axes, ncol=4)
    fig.suptitle("scikit-learn data, relative scales: breast cancer (logistic halfspace, "
                 "raw-centred vs standardised) and diabetes (OLS)")
    return fig


register("real_data", "Real data (scikit-learn bundled datasets)", real_config, None,
         real_render, requires=("sklearn",), cost=7,
         parts=Parts(real_split, _real_run, real_join, _real_weight))
