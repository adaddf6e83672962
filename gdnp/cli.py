"""The ``gdnp`` command line (API.md): ``solve``, ``verify``, ``plots``, ``sweep``, ``bench``."""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

__all__ = ["main", "build_problem"]

PROBLEMS = ("ols", "halfspace", "mlp")


def build_problem(name: str, *, kappa: float, dim: int, seed: int, separation: float = 0.9,
                  loss: str = "logistic", n: int | None = None, hidden: int = 4,
                  noise: float = 0.1, normalization: str = "batch", bn_eps: float = 0.0):
    """A named synthetic problem: population unless ``n`` samples are asked for (MLP: always
    empirical, ``n`` defaults to 2000); ``normalization`` and ``bn_eps`` choose the norm of
    the BN coordinates (theory guide §10; single-unit problems)."""
    from gdnp.problems import MLP, OLS, Halfspace

    norm = {"normalization": normalization, "bn_eps": bn_eps}
    if name == "mlp" and (normalization != "batch" or bn_eps != 0.0):
        raise ValueError("--normalization/--bn-eps: the MLP supports the idealised BN only")
    if name == "ols":
        if n is None:
            return OLS.random(dim, kappa, seed=seed, noise=noise, **norm)
        rng = np.random.default_rng(seed)
        base = OLS.random(dim, kappa, seed=rng, noise=noise)
        X = rng.standard_normal((n, dim)) @ np.linalg.cholesky(base.S).T
        y = X @ base.w_true + noise * rng.standard_normal(n)
        return OLS.from_data(X, y, **norm)
    if name == "halfspace":
        if n is None:
            return Halfspace.random(dim, kappa, separation=separation, loss=loss, seed=seed,
                                    **norm)
        return Halfspace.sample(dim, kappa, n, separation=separation, loss=loss, seed=seed,
                                **norm)
    if name == "mlp":
        return MLP.random(dim, hidden, kappa, 2000 if n is None else n, seed=seed, loss=loss)
    raise ValueError(f"problem {name!r} is unknown; choose one of {list(PROBLEMS)}")


def _fmt(v, spec):
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, spec)


def cmd_solve(args) -> int:
    import gdnp

    prob = build_problem(args.problem, kappa=args.kappa, dim=args.dim, seed=args.seed,
                         separation=args.separation, loss=args.loss, n=args.n,
                         hidden=args.hidden, normalization=args.normalization,
                         bn_eps=args.bn_eps)
    methods = list(gdnp.METHODS) if args.method == "all" else [args.method]
    rows = []
    for m in methods:
        t0 = time.perf_counter()
        # mini-batches for gd and bngd; agd and gdnp stay full-batch (theory guide §11)
        opts = {"batch_size": args.batch_size, "statistics": args.statistics} if (
            args.batch_size is not None and m in ("gd", "bngd")) else {}
        res = gdnp.solve(prob, m, maxiter=args.maxiter, tol=args.tol, seed=args.seed, **opts)
        elapsed = time.perf_counter() - t0
        hist = res.history
        fit = None
        if "gap" in hist:
            f_star = prob.solution()[1]
            # gaps below ~1e3 ulp of f* are rounding noise, not convergence
            floor = 1e3 * np.finfo(float).eps * abs(f_star)
            fit = gdnp.rates.fit_order(hist["iter"], hist["gap"], floor=floor)
        rows.append({
            "method": m, "nit": res.nit, "fun": res.fun,
            "gap": float(hist["gap"][-1]) if "gap" in hist and hist["gap"].size else None,
            "grad_norm": res.grad_norm, "time": elapsed, "status": res.status,
            "message": res.message, "order": None if fit is None else fit["kind"],
            "rate": None if fit is None else fit["rate"],
        })
    if args.json:
        json.dump({"problem": prob.config(), "results": rows}, sys.stdout, indent=2,
                  default=float)
        print()
        return 0
    cfg = prob.config()
    print(f"{prob!r}: " + ", ".join(f"{k}={v}" for k, v in cfg.items()
                                     if k not in ("problem", "dim", "kappa_S")))
    print(f"{'method':<7}{'iters':>7}{'final gap':>12}{'|grad|':>11}{'time [s]':>10}"
          f"{'order':>11}{'status':>8}")
    for r in rows:
        order = "-" if r["order"] is None else (
            f"lin {r['rate']:.3f}" if r["order"] == "linear" else "sublin")
        print(f"{r['method']:<7}{r['nit']:>7d}{_fmt(r['gap'], '>12.3e')}"
              f"{_fmt(r['grad_norm'], '>11.2e')}{r['time']:>10.3f}{order:>11}{r['status']:>8d}")
    return 0


def _delegate(command: str, argv: list[str]) -> int:
    """Sub-commands that own their argument parsing live beside their implementation."""
    if command == "verify":
        from gdnp.proofs.report import verify_main as run
    elif command == "plots":
        from gdnp.plots import plots_main as run
    elif command == "sweep":
        from gdnp.sweep import sweep_main as run
    elif command == "claims":
        from gdnp.claims import claims_main as run
    else:
        from gdnp.bench import bench_main as run
    return run(argv)


DELEGATED = {
    "verify": "prove MATH.md's identities with sympy (gdnp verify -h)",
    "plots": "regenerate the convergence figures (gdnp plots -h)",
    "sweep": "run a resumable parallel grid of solver runs (gdnp sweep -h)",
    "bench": "measure per-iteration cost and ratios (gdnp bench -h)",
    "claims": "check every published claim gdnp reproduces (gdnp claims -h)",
}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gdnp`` console script and ``python -m gdnp``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        return _delegate(argv[0], argv[1:])
    parser = argparse.ArgumentParser(prog="gdnp", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in DELEGATED.items():
        sub.add_parser(name, help=text)
    p = sub.add_parser("solve", help="run solvers on a synthetic problem and print a table")
    p.add_argument("problem", choices=PROBLEMS)
    p.add_argument("--method", default="all", choices=["all", "gd", "agd", "bngd", "gdnp"])
    p.add_argument("--kappa", type=float, default=100.0, help="condition number of S")
    p.add_argument("--dim", type=int, default=10)
    p.add_argument("--separation", type=float, default=0.9,
                   help="halfspace: c = sqrt(u'S^-1 u) in (0, 1)")
    p.add_argument("--loss", default="logistic", choices=["logistic", "sigmoid", "squared"])
    p.add_argument("--n", type=int, default=None,
                   help="number of samples (default: exact population problem)")
    p.add_argument("--hidden", type=int, default=4, help="MLP hidden units")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--maxiter", type=int, default=1000)
    p.add_argument("--tol", type=float, default=0.0,
                   help="stop once ||grad f||_{S^-1} <= tol (default 0: run maxiter steps)")
    p.add_argument("--normalization", default="batch",
                   choices=["batch", "weight", "l1", "l3", "linf"],
                   help="norm N of the BN coordinates w~ = g w/N(w) (l1, l3, linf need --n)")
    p.add_argument("--bn-eps", type=float, default=0.0,
                   help="BN's epsilon: N(w) = sqrt(w'Sw + eps) (PyTorch BatchNorm1d)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="mini-batch size for gd and bngd (needs --n; agd, gdnp: full batch)")
    p.add_argument("--statistics", default="batch", choices=["batch", "population"],
                   help="normalize each mini-batch with its own or the full data's statistics")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    try:
        if args.command == "solve":
            return cmd_solve(args)
    except (ValueError, TypeError) as exc:
        print(f"gdnp {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0
