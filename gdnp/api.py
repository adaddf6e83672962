"""``gdnp.solve``: one entry point for every method.

The options section of :func:`solve`'s docstring is generated here from the methods'
signatures and the ``Parameters`` sections of their docstrings, so it lists every option of
every method with its default and cannot fall behind a method's signature.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from typing import Any

from gdnp.problems import Problem

from ._common import ArrayLike, Callback, Seed
from .bngd import bngd
from .decoupled import gdnp
from .first_order import agd, gd
from .result import OptimizeResult

__all__ = ["solve", "METHODS"]

#: The solvers by name: the keys are the valid ``method=`` values of :func:`solve`.
METHODS = {"gd": gd, "agd": agd, "bngd": bngd, "gdnp": gdnp}


def solve(problem: Problem, method: str = "gdnp", x0: ArrayLike | None = None,
          maxiter: int = 1000, tol: float = 1e-10, seed: Seed = 0, callback: Callback = None,
          **method_options: Any) -> OptimizeResult:
    """Minimise a problem with one of gdnp's four methods.

    A single entry point to :func:`gdnp.gd`, :func:`gdnp.agd`, :func:`gdnp.bngd` and
    :func:`gdnp.gdnp`, in the style of :func:`scipy.optimize.minimize`: the common arguments
    are the same for every method, the method's own options are keywords.

    Parameters
    ----------
    problem : gdnp.problems.Problem
        What to minimise: an OLS, halfspace or MLP problem from :mod:`gdnp.problems`.
    method : {"gdnp", "gd", "agd", "bngd"}
        ``"gdnp"``: K19's Algorithm 1, a Rayleigh direction step and a length bisection
        (theory guide §4; unit by unit on the MLP, §5). ``"gd"``: gradient descent with step
        ``1/zeta``; ``"agd"``: Nesterov's accelerated gradient (§6). ``"bngd"``: C19's plain
        gradient descent on the BN parameters ``(w, g)`` (§2). Case-insensitive.
    x0 : array_like, optional
        Start in the original coordinates (for the MLP the flat vector of
        :meth:`~gdnp.problems.MLP.split`). Default: a draw from ``seed``
        (``problem.initial_point(seed)``). GDNP and BNGD also accept a BN start ``w0, g0``.
    maxiter : int, default 1000
        Iteration budget (for GDNP the number of direction steps ``T_d``; on the MLP sweeps
        over the units).
    tol : float, default 1e-10
        Stop with status 0 once ``||grad f(x)||_{S^-1} <= tol`` (theory guide §0); ``0`` runs
        ``maxiter`` iterations unless a gradient is exactly zero (an iterate that is the
        optimum to the last bit), which still stops the run with status 0.
    seed : int or numpy.random.Generator, default 0
        Seed of the default start (no global random state is used).
    callback : callable, optional
        ``callback(intermediate_result)`` after every recorded iterate (the start ``nit =
        0`` and the final one included), with an :class:`~gdnp.OptimizeResult` holding
        ``x``, ``fun``, ``grad_norm``, ``grad_norm2``, ``nit``, ``method`` and, when a
        reference optimum is known, ``gap``. Raising :class:`StopIteration` stops the run
        with status 99 (status 0 if that iterate already met ``tol``); any other exception
        it raises propagates.
    **method_options
        Keyword options of the chosen method, listed below with their defaults (this list is
        generated from the methods' signatures and docstrings). An option the method does
        not accept raises :class:`TypeError` naming the options it does accept.

{options}

    Returns
    -------
    OptimizeResult
        A ``dict`` with attribute access: ``x``, ``fun``, ``grad_norm``
        (``||grad f(x)||_{S^-1}``), ``nit``, ``nfev``, ``status``, ``success``
        (``status == 0``), ``message``, ``method`` and ``history``, a dict of equal-length
        arrays (``iter``, ``fun``, ``grad_norm2``, ``time``; ``gap = f - f*`` when the
        problem has a reference optimum; BNGD adds ``w_norm2``, GDNP ``dg2`` and ``step``,
        both ``rho_gap`` on single-unit problems, mini-batch runs ``epoch``), plus
        method-specific keys (``length``, ``direction``, ``n_bisect``, ``n_certified``,
        ``lr``...). ``status`` is one of

        * 0: converged, ``||grad f||_{S^-1} <= tol``;
        * 1: ``maxiter`` iterations done;
        * 2: diverged (non-finite or exploding objective; for GDNP also a length with no
          finite minimiser). A status, never an exception: ``x`` is the last finite iterate
          and ``message`` says where it happened;
        * 99: stopped by the callback.

    Raises
    ------
    ValueError
        Unknown ``method``; an invalid common argument (``maxiter < 0``, ``tol < 0``, an
        ``x0`` of the wrong shape) or option value, naming it; a GDNP start with
        ``u'w0 = 0`` (theory guide §9); a start at which the objective is not finite (no
        iterate could be returned).
    TypeError
        ``method`` is not a string, ``problem`` is not a :class:`~gdnp.problems.Problem`, an
        option is unknown to the method, or an option has the wrong type.

    Notes
    -----
    A run that breaks down is a result, not an exception: a GDNP length bisection with no
    sign change of ``d_g f`` (separable data, where the optimal length is infinite), an
    overflow or a non-finite value end the run with status 2 and a message, ``x`` the last
    finite iterate.

    See Also
    --------
    gdnp.gd, gdnp.agd, gdnp.bngd, gdnp.gdnp : the methods themselves.
    gdnp.rates.fit_order : classify a history's tail as linear or sublinear.

    Examples
    --------
    >>> import gdnp
    >>> from gdnp.problems import Halfspace
    >>> prob = Halfspace.random(d=10, kappa=10, separation=0.9, seed=0)
    >>> res = gdnp.solve(prob, "gdnp", maxiter=300, tol=1e-8)
    >>> res.status, res.success, res.nit
    (0, True, 128)
    >>> bool(res.grad_norm <= 1e-8)
    True
    >>> gdnp.rates.fit_order(res.history["iter"], res.history["gap"])["kind"]
    'linear'

    Gradient descent, with the same budget, is still far from the optimum:

    >>> gd = gdnp.solve(prob, "gd", maxiter=300, tol=1e-8)
    >>> gd.status, bool(gd.history["gap"][-1] > 1e3 * res.history["gap"][-1])
    (1, True)

    A callback that stops the run (status 99) once the gap is small:

    >>> def stop(r):
    ...     if r.gap < 1e-3:
    ...         raise StopIteration
    >>> gdnp.solve(prob, "gdnp", callback=stop).status
    99

    An option the method does not take:

    >>> gdnp.solve(prob, "gd", T_s=10)
    Traceback (most recent call last):
    ...
    TypeError: unknown option(s) ['T_s'] for method 'gd'; it accepts [...]
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    try:
        fn = METHODS[method.lower()]
    except KeyError:
        raise ValueError(f"method {method!r} is unknown; choose one of {sorted(METHODS)}") from None
    allowed = method_option_names(method)
    unknown = sorted(set(method_options) - set(allowed))
    if unknown:
        raise TypeError(f"unknown option(s) {unknown} for method {method!r}; "
                        f"it accepts {allowed}")
    return fn(problem, x0=x0, maxiter=maxiter, tol=tol, seed=seed, callback=callback,
              **method_options)


def method_option_names(method: str) -> list[str]:
    """The keyword options ``gdnp.solve`` accepts for ``method`` (its keyword-only
    parameters), in signature order; the sweep checks its ``options`` against them."""
    params = inspect.signature(METHODS[method.lower()]).parameters
    return [p for p, v in params.items() if v.kind is inspect.Parameter.KEYWORD_ONLY]


#: Options a method describes in prose rather than in its ``Parameters`` section.
_PROSE_OPTIONS = {
    ("agd", "momentum"): "``\"strongly_convex\"`` uses the constant momentum "
    "``(1 - sqrt(mu_f lr)) / (1 + sqrt(mu_f lr))``, at the default ``lr = 1/zeta`` "
    "``(sqrt(zeta) - sqrt(mu_f)) / (sqrt(zeta) + sqrt(mu_f))`` (needs a known strong "
    "convexity ``mu_f``), ``\"schedule\"`` the ``k/(k+3)`` schedule; ``\"auto\"`` picks the "
    "first where ``mu_f`` is known (theory guide §6).",
}


def _param_docs(doc: str | None) -> dict[str, str]:
    """``{name: description}`` from the ``Parameters`` section of a numpydoc docstring."""
    lines = inspect.cleandoc(doc or "").splitlines()
    out: dict[str, str] = {}
    names: list[str] = []
    inside = False
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if nxt.strip() and set(nxt.strip()) == {"-"}:  # a section header
            inside = line.strip() == "Parameters"
            names = []
            continue
        if not inside or (line.strip() and set(line.strip()) == {"-"}):
            continue
        if line and not line.startswith(" "):
            head = line.split(" : ")[0]
            names = [n.strip() for n in head.split(",") if n.strip()]
            for n in names:
                out.setdefault(n, "")
        elif line.strip() and names:
            for n in names:
                out[n] = (out[n] + " " + line.strip()).strip()
    return out


def _options_doc(indent: str = "    ") -> str:
    """The per-method option list of :func:`solve`'s docstring (numpydoc bullets)."""
    fallback = _param_docs(gd.__doc__)
    blocks = []
    for name, fn in METHODS.items():
        docs = {**fallback, **_param_docs(fn.__doc__)}
        items = []
        for p in inspect.signature(fn).parameters.values():
            if p.kind is not inspect.Parameter.KEYWORD_ONLY:
                continue
            text = (_PROSE_OPTIONS.get((name, p.name)) or docs.get(p.name)
                    or f"see :func:`gdnp.{name}`.")
            text = re.sub(r"\s+", " ", text)
            items.append(textwrap.fill(f"* ``{p.name}={p.default!r}``: {text}", width=88,
                                       subsequent_indent="  "))
        body = "\n".join(items) if items else "(no options)"
        blocks.append(f"``method=\"{name}\"`` (:func:`gdnp.{name}`)\n\n{body}")
    return textwrap.indent("\n\n".join(blocks), indent + "    ")


if solve.__doc__:  # docstrings are stripped under python -OO
    solve.__doc__ = solve.__doc__.replace("{options}", _options_doc())
