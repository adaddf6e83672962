"""gdnp: convergence analysis of batch normalization's length-direction decoupling.

Solvers: :func:`solve`, :func:`gd`, :func:`agd`, :func:`bngd`, :func:`gdnp`,
:func:`bisect`; problems in :mod:`gdnp.problems`; theoretical rates in :mod:`gdnp.rates`;
symbolic checks in :mod:`gdnp.proofs`; figures in :mod:`gdnp.plots`.
"""

from . import rates
from .api import METHODS, solve
from .bisection import NoSignChangeError, bisect
from .bngd import bngd
from .decoupled import gdnp
from .first_order import agd, gd
from .result import OptimizeResult
from .spectrum import hessian_spectrum

__version__ = "0.1.0"

__all__ = [
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
