"""gdnp: convergence analysis of batch normalization's length-direction decoupling.

Solvers: :func:`solve`, :func:`gd`, :func:`agd`, :func:`bngd`, :func:`gdnp`,
:func:`bisect`; problems in :mod:`gdnp.problems`; theoretical rates in :mod:`gdnp.rates`;
symbolic checks in :mod:`gdnp.proofs`; figures in :mod:`gdnp.plots`; resumable grids of runs
in :mod:`gdnp.sweep`.
"""

from . import rates
from .api import METHODS, solve
from .bisection import NoSignChangeError, bisect
from .bngd import bngd
from .decoupled import gdnp
from .first_order import agd, gd
from .result import OptimizeResult
from .spectrum import Eigenvalues, hessian_spectrum

NoSignChangeError.__module__ = __name__  # printed as gdnp.NoSignChangeError, as imported

__version__ = "0.1.0"

__all__ = [
    "Eigenvalues",
    "METHODS",
    "NoSignChangeError",
    "OptimizeResult",
    "agd",
    "bisect",
    "bngd",
    "gd",
    "gdnp",
    "hessian_spectrum",
    "rates",
    "solve",
    "__version__",
]


_SUBPACKAGES = ("plots", "problems", "proofs", "sweep")


def __getattr__(name: str):
    """``gdnp.plots``, ``gdnp.proofs``, ``gdnp.sweep`` (and ``gdnp.problems``) on first use,
    as scipy loads its subpackages: ``import gdnp`` stays light (no matplotlib, no sympy)."""
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"gdnp.{name}")
    raise AttributeError(f"module 'gdnp' has no attribute {name!r}")
