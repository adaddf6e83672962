"""``gdnp.solve``: one entry point for every method (API.md)."""

from __future__ import annotations

import inspect

from .bngd import bngd
from .decoupled import gdnp
from .first_order import agd, gd
from .result import OptimizeResult

__all__ = ["solve", "METHODS"]

METHODS = {"gd": gd, "agd": agd, "bngd": bngd, "gdnp": gdnp}


def solve(problem, method: str = "gdnp", x0=None, maxiter: int = 1000, tol: float = 1e-10,
          seed=0, callback=None, **method_options) -> OptimizeResult:
    """Minimise ``problem`` with ``method`` in ``{"gd", "agd", "bngd", "gdnp"}``.

    ``method_options`` are passed to the method (``gdnp``: ``T_s``, ``eps``, ``L``,
    ``bracket``, ``length``...; ``bngd``: ``lr``, ``lr_g``; ``gd``/``agd``: ``lr``); an unknown
    option raises ``TypeError`` naming it and the options the method accepts.
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a str, got {type(method).__name__}")
    try:
        fn = METHODS[method.lower()]
    except KeyError:
        raise ValueError(f"method {method!r} is unknown; choose one of {sorted(METHODS)}") from None
    params = inspect.signature(fn).parameters
    allowed = [p for p, v in params.items() if v.kind is inspect.Parameter.KEYWORD_ONLY]
    unknown = sorted(set(method_options) - set(allowed))
    if unknown:
        raise TypeError(f"unknown option(s) {unknown} for method {method!r}; "
                        f"it accepts {allowed}")
    return fn(problem, x0=x0, maxiter=maxiter, tol=tol, seed=seed, callback=callback,
              **method_options)
