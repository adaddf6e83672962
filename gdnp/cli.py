"""The ``gdnp`` command line: ``solve``, ``verify``, ``plots``, ``sweep``, ``bench``.

Conventions shared by the commands: ``--dim`` is the input dimension, the ``d=`` of the Python
constructors (an MLP has ``hidden * (d + 1)`` parameters); ``--maxiter`` and ``--tol`` default
to ``gdnp.solve``'s 1000 and 1e-10; method names are case-insensitive; progress goes to stderr
and is on by default when stderr is a terminal (``--progress/--no-progress``), so ``--json``
output stays clean. Exit status: 0 done, 2 bad input (one line naming the argument), 130
interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
import time
import warnings

import numpy as np

from gdnp.result import DEFAULT_MAXITER, DEFAULT_TOL

__all__ = ["main", "build_problem"]

PROBLEMS = ("ols", "halfspace", "mlp")
#: Samples of a command-line MLP when ``--n`` is not given (an MLP is always empirical).
MLP_DEFAULT_N = 2000
DESCRIPTION = ("Convergence analysis of batch normalization's length-direction decoupling: "
               "run the solvers (solve), prove the theory's identities (verify), check the "
               "published claims (claims), draw the figures (plots), run resumable grids "
               "(sweep) and benchmark (bench).")


def build_problem(name: str, *, kappa: float, dim: int, seed: int, separation: float = 0.9,
                  loss: str = "logistic", n: int | None = None, hidden: int = 4,
                  noise: float = 0.1, normalization: str = "batch", bn_eps: float = 0.0,
                  n_nodes: int | None = None, centered: bool = True):
    """A named synthetic problem: population unless ``n`` samples are asked for (MLP: always
    empirical, ``n`` defaults to 2000); ``normalization``, ``bn_eps`` and ``centered`` choose
    the norm of the BN coordinates (theory guide §10; every hidden unit's on the MLP);
    ``n_nodes`` the
    population halfspace's Gauss-Hermite rule (theory guide §3; default 601)."""
    from gdnp.problems import MLP, OLS, Halfspace

    norm = {"normalization": normalization, "bn_eps": bn_eps, "centered": bool(centered)}
    if name == "ols":
        if n is None:
            return OLS.random(dim, kappa, seed=seed, noise=noise, **norm)
        from gdnp.problems._validate import check_memory

        # (the sample, its product with the factor and from_data's centred copy; as
        # Halfspace.sample checks its own)
        check_memory(4.0 * 8.0 * n * dim, f"a sample of n = {n} points in d = {dim} dimensions")
        rng = np.random.default_rng(seed)
        base = OLS.random(dim, kappa, seed=rng, noise=noise)
        X = rng.standard_normal((n, dim)) @ np.linalg.cholesky(base.S).T
        y = X @ base.w_true + noise * rng.standard_normal(n)
        return OLS.from_data(X, y, **norm)
    if name == "halfspace":
        if n is None:
            rule = {} if n_nodes is None else {"n_nodes": n_nodes}
            return Halfspace.random(dim, kappa, separation=separation, loss=loss, seed=seed,
                                    **norm, **rule)
        return Halfspace.sample(dim, kappa, n, separation=separation, loss=loss, seed=seed,
                                **norm)
    if name == "mlp":
        return MLP.random(dim, hidden, kappa, MLP_DEFAULT_N if n is None else n, seed=seed,
                          loss=loss,
                          **norm)
    raise ValueError(f"problem {name!r} is unknown; choose one of {list(PROBLEMS)}")


#: What the ``solve`` table prints for a value that was not measured (no reference optimum,
#: no fitted rate).
MISSING = "n/a"


def _fmt(v, spec: str, width: int) -> str:
    """``v`` formatted with ``spec``, right-aligned in ``width`` columns; :data:`MISSING`
    (aligned the same way) for ``None`` or NaN."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return f"{MISSING:>{width}}"
    return format(v, f">{width}{spec}")


def _count(name: str, minimum: int):
    """An argparse ``type``: an integer ``>= minimum``, refused at parsing naming ``--name``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"--{name} must be an integer, got {text!r}") \
                from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"--{name} must be >= {minimum}, got {value}")
        return value
    parse.__name__ = name
    return parse


class HelpFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, unless it states the default itself."""

    def _get_help_string(self, action):
        text = action.help or ""
        if (action.option_strings and "default" not in text and action.default is not None
                and action.default is not False and action.default is not argparse.SUPPRESS):
            text += (" " if text else "") + "(default: %(default)s)"
        return text


class ArgumentParser(argparse.ArgumentParser):
    """Every ``gdnp`` command's parser: options are not abbreviated (``--kap 10`` had been
    taken for ``--kappa``, so a typo could pick another option silently), and an unknown
    option is answered with the closest known ones."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        if message.startswith("unrecognized arguments:"):
            import difflib

            known = [s for s in self._option_string_actions if s.startswith("--")]
            close = []
            for word in message.split(":", 1)[1].split():
                if word.startswith("-"):
                    name = word.split("=", 1)[0]
                    close += [m for m in difflib.get_close_matches(name, known, n=2, cutoff=0.6)
                              if m not in close]
            if close:
                message += f" (did you mean {' or '.join(close)}?)"
        super().error(message)


def _show_progress(flag: bool | None) -> bool:
    return sys.stderr.isatty() if flag is None else bool(flag)


def add_progress_option(parser: argparse.ArgumentParser,
                        help: str = "progress on stderr (default: when stderr is a terminal)"
                        ) -> None:
    """Add the ``--progress/--no-progress`` switch every long-running command shares.

    The value is ``None`` unless the switch is given; :func:`_show_progress` turns it into
    "on when stderr is a terminal".

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The command's parser.
    help : str
        The option's help: what the command prints (or that it prints nothing).
    """
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help=help)


def cmd_solve(args) -> int:
    import gdnp
    from gdnp._common import reference_value

    progress = _show_progress(args.progress)
    if args.kappa is None:  # the default; a 1x1 S has condition number 1 only
        args.kappa = 1.0 if args.dim == 1 else 100.0
    # the options of one problem only: given ones are passed, the others keep build_problem's
    # defaults (the values --help states)
    given = {k: getattr(args, k) for k in _PROBLEM_OPTIONS if getattr(args, k) is not None}

    def stage(what: str, run):
        """One progress line for a stage that can take long (data, the reference optimum)."""
        if not progress:
            return run()
        print(f"gdnp solve: {what} ...", end="", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        out = run()
        print(f" {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        return out

    prob = stage(f"building the {args.problem} problem", lambda: build_problem(
        args.problem, kappa=args.kappa, dim=args.dim, seed=args.seed, n=args.n,
        normalization=args.normalization, bn_eps=args.bn_eps, centered=not args.uncentered,
        **given))
    methods = list(gdnp.METHODS) if args.method == "all" else [args.method]
    # the reference f* (cached by the problem) before the clock starts: the time column is
    # each method's own, not the first method's plus the reference solve
    no_reference = None  # why the problem has no f*, in the solver's words
    if args.reference and stage("the reference optimum f*",
                                lambda: reference_value(prob)) is None:
        no_reference = _no_minimiser_reason(prob)  # (the problem kept the solver's error)
    rows = []
    # the statistics a mini-batch run uses (what the run did, also when not given)
    statistics = (args.statistics or "batch") if args.batch_size is not None else None
    for m in methods:
        if progress:
            print(f"gdnp solve: {m} ...", end="", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        # mini-batches for gd and bngd; agd and gdnp stay full-batch (theory guide §11)
        opts = {"batch_size": args.batch_size, "statistics": statistics} if (
            args.batch_size is not None and m in ("gd", "bngd")) else {}
        res = gdnp.solve(prob, m, maxiter=args.maxiter, tol=args.tol, seed=args.seed,
                         reference=args.reference, **opts)
        elapsed = time.perf_counter() - t0
        if progress:
            print(f" {res.nit} iterations in {elapsed:.1f} s (status {res.status})",
                  file=sys.stderr, flush=True)
        hist = res.history
        fit = None
        if "gap" in hist and res.status != 2:  # never a rate for a diverging run
            f_star = prob.solution()[1]
            # gaps below ~1e3 ulp of f* are rounding noise, not convergence
            floor = 1e3 * np.finfo(float).eps * abs(f_star)
            fit = gdnp.rates.fit_order(hist["iter"], hist["gap"], floor=floor)
        rows.append({
            "method": m, "nit": res.nit, "fun": res.fun,
            "gap": float(hist["gap"][-1]) if "gap" in hist and hist["gap"].size else None,
            "grad_norm": res.grad_norm, "time": elapsed, "status": res.status,
            "message": res.message, "order": None if fit is None else fit["kind"],
            # a rate only where the fit found linear convergence (as the table prints it)
            "rate": fit["rate"] if fit is not None and fit["kind"] == "linear" else None,
            "order_reason": None if fit is None else fit["reason"],  # why fit_rate said so
            # mini-batches (gd and bngd under --batch-size) or the full batch (None)
            "batch_size": opts.get("batch_size"), "statistics": opts.get("statistics"),
        })
    if args.json:
        from gdnp._io import package_versions

        # what reproduces the run: the command's own arguments (--dim is the input dimension;
        # the problem's "dim" is its parameter count), and the packages that computed it
        settings = {"problem": args.problem, "dim": args.dim, "kappa": args.kappa,
                    "seed": args.seed, "n": args.n, "maxiter": args.maxiter, "tol": args.tol,
                    "method": args.method, "normalization": args.normalization,
                    "bn_eps": args.bn_eps, "centered": not args.uncentered,
                    "batch_size": args.batch_size,
                    "statistics": statistics, "reference": args.reference, **given}
        # strict JSON: a value that is not finite (an empty history's gap) is null
        json.dump(_finite_or_none({"settings": settings, "problem": prob.config(),
                                   "results": rows, "versions": package_versions()}),
                  sys.stdout, indent=2, default=float, allow_nan=False)
        print()
        return 0
    cfg = prob.config()
    kind = "population" if prob.population else "empirical"
    size = f"d={args.dim}" + (f", {prob.dim} parameters" if prob.dim != args.dim else "")
    # kappa(S) is measured on the problem built (an empirical S is not the requested one);
    # config's "kappa" is the requested value, printed once, labelled, in the parenthesis
    shown = {k: v for k, v in cfg.items() if k not in ("problem", "dim", "kappa_S", "kappa",
                                                         "population")}
    shown.setdefault("seed", args.seed)  # (the empirical OLS's config has no seed of its own)
    print(f"{args.problem} ({kind}, {size}, kappa(S)={prob.kappa:.4g}, requested "
          f"kappa={args.kappa:.4g}): " + ", ".join(f"{k}={v}" for k, v in shown.items()))
    print(f"{'method':<7}{'iters':>7}{'final gap':>12}{'|grad|':>11}{'time [s]':>10}"
          f"{'order':>12}{'status':>8}")
    for r in rows:
        order = (_linear_cell(r["rate"]) if r["order"] == "linear" else
                 {None: MISSING, "sublinear": "sublin", "undetermined": "undet"}[r["order"]])
        print(f"{r['method']:<7}{r['nit']:>7d}{_fmt(r['gap'], '.3e', 12)}"
              f"{_fmt(r['grad_norm'], '.2e', 11)}{r['time']:>10.3f}{order:>12}"
              f"{r['status']:>8d}")
    batched = [r["method"] for r in rows if r["batch_size"] is not None]
    if batched:
        full = [r["method"] for r in rows if r["batch_size"] is None]
        print(f"note: {', '.join(batched)}: mini-batches of {args.batch_size} ({statistics} "
              "statistics), iters counting steps" + (
                  f"; {', '.join(full)}: the full batch" if full else ""))
    if any(r["gap"] is None for r in rows):
        why = "--no-reference" if not args.reference else "the problem has no reference " \
            "optimum f*" + (f": {no_reference}" if no_reference else "")
        print(f"note: final gap {MISSING}: {why}")
    at_start = [r["method"] for r in rows if r["nit"] == 0 and r["status"] == 0]
    if at_start:
        print(f"note: {', '.join(at_start)}: the start already meets --tol (no iteration, "
              "no rate to fit)" + ("; in d = 1 every start of unit S-norm is +-x*" if
                                   prob.dim == 1 else ""))
    for r in rows:
        if r["status"] == 2:
            print(f"note: {r['method']} (status 2, no rate fitted): {r['message']}")
        elif r["order"] == "undetermined" and r["nit"] > 0:  # (the first question it raises)
            print(f"note: {r['method']}'s order is undetermined: {r['order_reason']}")
    negative = [r for r in rows if r["gap"] is not None and r["gap"] < 0]
    if negative:
        from gdnp.problems import MLP

        f_star = prob.solution()[1]
        floor = 1e3 * np.finfo(float).eps * max(abs(f_star), np.finfo(float).tiny)
        for r in negative:
            # beyond the floor, f (whose terms may cancel to a far smaller f*) or f* is
            # inexact at that size: which one, this table cannot tell
            if -r["gap"] <= floor:
                what = "rounding: f equals f* to float64 accuracy"
            elif isinstance(prob, MLP):  # not convex: f* is a local reference (§5)
                what = ("the solver found a lower point than the reference f*, which on "
                        "the network is only the best of a few local optimisations")
            else:
                what = ("by more than f*'s own rounding: f or the reference f* is inexact at "
                        "that size")
            scale = "" if isinstance(prob, MLP) and -r["gap"] > floor else \
                f" (1e3 ulp of f* = {floor:.1e})"
            print(f"note: {r['method']}'s final gap {r['gap']:.3e} is negative, {what}{scale}")
    return 0


def _linear_cell(rate: float) -> str:
    """The table's order cell of a linear fit: ``lin 0.977``, or ``lin 1-2e-05`` where three
    decimals would round the rate to 1."""
    return f"lin {rate:.3f}" if rate < 0.9995 else f"lin 1-{1.0 - rate:.0e}"


def _no_minimiser_reason(prob) -> str | None:
    """The reference solver's own sentence on why ``prob`` has no finite minimiser."""
    from gdnp.problems import NoFiniteMinimizerError

    try:
        prob.solution()
    except NoFiniteMinimizerError as exc:
        return str(exc)
    return None


def _finite_or_none(obj):
    """``obj`` with every float that is not finite replaced by ``None`` (strict JSON)."""
    if isinstance(obj, dict):
        return {k: _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_none(v) for v in obj]
    if isinstance(obj, (float, np.floating)) and not np.isfinite(obj):
        return None
    return obj


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
    "verify": "prove the theory guide's identities with sympy (gdnp verify -h)",
    "plots": "regenerate the convergence figures (gdnp plots -h)",
    "sweep": "run a resumable parallel grid of solver runs (gdnp sweep -h)",
    "bench": "measure per-iteration cost and ratios (gdnp bench -h)",
    "claims": "check every published claim gdnp reproduces (gdnp claims -h)",
}


def _parser() -> argparse.ArgumentParser:
    from gdnp import __version__

    fmt = HelpFormatter
    parser = ArgumentParser(prog="gdnp", description=DESCRIPTION, formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"gdnp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for name, text in DELEGATED.items():
        sub.add_parser(name, help=text)
    p = sub.add_parser("solve", help="run solvers on a synthetic problem and print a table",
                       description="Run the solvers on a seeded synthetic problem and print "
                       "one row per method (or JSON).", formatter_class=fmt)
    p.set_defaults(solve_parser=p)  # for the checks of option combinations after parsing
    p.add_argument("problem", choices=PROBLEMS, type=str.lower, help="any case")
    p.add_argument("--method", default="all", type=str.lower,
                   choices=["all", "gd", "agd", "bngd", "gdnp"], help="any case")
    p.add_argument("--kappa", type=float, default=None,
                   help="condition number of S (default: 100, and 1 with --dim 1: a 1x1 S "
                        "has no other)")
    p.add_argument("--dim", type=_count("dim", 1), default=10,
                   help="input dimension d (the d= of the Python constructors)")
    p.add_argument("--separation", type=float, default=None,
                   help="halfspace: c = sqrt(u'S^-1 u) in [1e-150, 1) (default: 0.9)")
    p.add_argument("--loss", default=None, choices=["logistic", "sigmoid", "squared"],
                   type=str.lower,
                   help="halfspace and MLP loss (default: logistic)")
    p.add_argument("--n-nodes", type=_count("n-nodes", 2), default=None,
                   help="population halfspace: nodes of the Gauss-Hermite rule of its "
                        "expectations (default: 601; more near separation 1)")
    p.add_argument("--n", type=_count("n", 2), default=None,
                   help="number of samples (default: the exact population problem; MLP: 2000)")
    p.add_argument("--hidden", type=_count("hidden", 1), default=None,
                   help="MLP hidden units (default: 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the problem and the start")
    p.add_argument("--maxiter", type=_count("maxiter", 0), default=DEFAULT_MAXITER,
                   help="iteration budget")
    p.add_argument("--tol", type=float, default=DEFAULT_TOL,
                   help="stop once ||grad f||_{S^-1} <= tol (0: run maxiter steps, unless a "
                        "gradient is exactly zero)")
    p.add_argument("--normalization", default="batch",
                   choices=["batch", "weight", "l1", "l3", "linf"], type=str.lower,
                   help="norm N of the BN coordinates w~ = g w/N(w) (l1, l3, linf need --n)")
    p.add_argument("--bn-eps", type=float, default=0.0,
                   help="BN's epsilon: N(w) = sqrt(w'Sw + eps) (PyTorch BatchNorm1d)")
    p.add_argument("--uncentered", action="store_true",
                   help="N of the raw projections x'w, without BN's mean subtraction (the "
                        "problems' centered=False)")
    p.add_argument("--batch-size", type=_count("batch-size", 1), default=None,
                   help="mini-batch size for gd and bngd (needs --n; agd and gdnp are "
                   "full-batch: refused with --method agd or gdnp, full batch for them "
                   "under --method all)")
    p.add_argument("--statistics", default=None, choices=["batch", "population"],
                   type=str.lower,
                   help="normalize each mini-batch with its own or the full data's "
                   "statistics (needs --batch-size; default: batch)")
    p.add_argument("--reference", action=argparse.BooleanOptionalAction, default=True,
                   help="compute the reference optimum f* for the gap column (--no-reference "
                   "skips it: no gap and no order, for large problems whose reference is "
                   "slow)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_progress_option(p, "one line per stage and per method on stderr (default: when "
                        "stderr is a terminal)")
    return parser


#: ``gdnp solve``'s options that only some problems have (their defaults: build_problem's).
_PROBLEM_OPTIONS = {"separation": ("halfspace",), "loss": ("halfspace", "mlp"),
                    "hidden": ("mlp",), "n_nodes": ("halfspace",)}


def _solve_conflict(args: argparse.Namespace) -> str | None:
    """Why ``gdnp solve``'s options cannot go together, or ``None`` when they can.

    An option of another problem (``--separation`` for OLS, say) is refused rather than
    ignored, and so are ``--batch-size`` for a single full-batch method (AGD, GDNP: theory
    guide §11) and ``--statistics`` without ``--batch-size``, which has no mini-batch to
    apply to.
    """
    for option, problems in _PROBLEM_OPTIONS.items():
        if getattr(args, option) is not None and args.problem not in problems:
            return (f"argument --{option.replace('_', '-')}: applies to "
                    f"{' and '.join(problems)} only, not {args.problem}")
    if args.n_nodes is not None and args.n is not None:
        return ("argument --n-nodes: applies to the population halfspace only (no --n): "
                "data problems average over their samples")
    if args.batch_size is not None and args.method in ("agd", "gdnp"):
        return (f"argument --batch-size: {args.method} is full-batch; mini-batches are for "
                "--method gd, bngd or all (where agd and gdnp run full-batch)")
    if args.batch_size is not None and args.problem == "mlp" and args.method in ("gd", "all"):
        return ("argument --batch-size: mini-batch gd on the MLP needs a step size lr (its "
                "smoothness is unknown, and backtracking needs the full objective), which gdnp "
                "solve does not take: use --method bngd, or from Python gdnp.solve(problem, "
                "'gd', lr=..., batch_size=...)")
    if args.batch_size is not None and args.n is None and args.problem != "mlp":
        return (f"argument --batch-size: needs --n N (a population {args.problem} problem "
                "has no samples to draw mini-batches from)")
    if args.statistics is not None and args.batch_size is None:
        return ("argument --statistics: applies to mini-batch runs only; give --batch-size "
                "too")
    return None


def _run(argv: list[str]) -> int:
    if argv and argv[0] in DELEGATED:
        return _delegate(argv[0], argv[1:])
    parser = _parser()
    if not argv:  # a missing command is a usage error (scripts notice it), with the help
        parser.print_help(sys.stderr)
        return 2
    args, unknown = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if unknown:  # named by the subcommand's parser, with its usage and the closest options
        args.solve_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "solve" and (conflict := _solve_conflict(args)) is not None:
        args.solve_parser.error(conflict)  # usage and one line, exit status 2
    try:
        if args.command == "solve":
            return cmd_solve(args)
    except (ValueError, TypeError, ImportError) as exc:
        from gdnp.problems import SingularCovarianceError

        hint = ("; on the command line, more samples (--n) make S regular"
                if isinstance(exc, SingularCovarianceError) else "")
        print(f"gdnp {args.command}: error: {_as_options(str(exc), args.solve_parser)}{hint}",
              file=sys.stderr)
        return 2
    return 0


def _as_options(message: str, parser: argparse.ArgumentParser) -> str:
    """A library error as the command line's: its leading argument name (``bn_eps must
    ...``, ``centered=False: ...``) replaced by the option that sets it (``--bn-eps``,
    ``--uncentered``)."""
    for action in parser._actions:
        longs = [o for o in action.option_strings if o.startswith("--")]
        if not longs or action.dest in ("help",):
            continue
        dest = action.dest
        if dest == "uncentered" and message.startswith("centered=False"):
            return longs[0] + message[len("centered=False"):]
        for sep in (" ", ":", "="):
            if message.startswith(dest + sep):
                return longs[0] + message[len(dest):]
    return message


class _Terminated(KeyboardInterrupt):
    """SIGTERM (what batch schedulers send), raised like Ctrl-C so that the same clean-up
    runs: a sweep releases its lock and keeps its cells."""


def _on_sigterm(signum, frame):
    raise _Terminated


def _show_cli_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning on the command line: one line, without the library's source line (which
    ``python -W`` users still get from Python code)."""
    print(f"gdnp: warning: {message} ({category.__name__})", file=file or sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``gdnp`` console script and ``python -m gdnp``.

    A closed pipe (``gdnp solve ... | head``) ends the command quietly; Ctrl-C exits 130,
    SIGTERM 143 (after the same clean-up: a sweep releases its lock) and an operating-system
    error (a full disk) 1, each with one line instead of a traceback.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():  # (signals: main thread only)
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    else:
        previous = None
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show "§" or "κ"
        if "utf" not in (getattr(stream, "encoding", None) or "utf-8").lower():
            with contextlib.suppress(AttributeError, ValueError):
                stream.reconfigure(errors="backslashreplace")
    try:
        with warnings.catch_warnings():  # restores the caller's showwarning afterwards
            warnings.showwarning = _show_cli_warning
            code = _run(argv)
        sys.stdout.flush()
        return code
    except _Terminated:
        print("\ngdnp: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:
        # the reader went away: point stdout at devnull so the interpreter's final flush
        # does not raise again, and exit quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("\ngdnp: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a full disk, a folder that vanished: one line, not a traceback
        command = next((a for a in argv if not a.startswith("-")), "gdnp")
        fix = {errno.ENOSPC: "free space", errno.EDQUOT: "free space",
               errno.EACCES: "fix the folder's permissions",
               errno.EPERM: "fix the folder's permissions",
               errno.EROFS: "choose a writable --out"}.get(exc.errno, "fix the cause")
        hint = (f"; the cells written so far are kept: {fix} and rerun the same command to "
                "resume") if command == "sweep" else ""
        print(f"gdnp {command}: error: {exc}{hint}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
