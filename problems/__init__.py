"""Problems of the length-direction decoupling analysis (theory guide §2, §3, §5).

Every problem implements :class:`Problem`: ``f``, ``grad``, ``value_and_grad``, ``smoothness``,
``S``, ``u``, ``solution()`` and the BN-coordinate functions ``f_bn``, ``grad_bn``, ``dg_bn``,
``to_bn``, ``from_bn``; the norm of the BN coordinates is a choice (``normalization=``,
``centered=``, ``bn_eps=``; :class:`Normalizer`, theory guide §10) and ``batch(indices)`` gives
the problem of one mini-batch (theory guide §11).
"""

from ._validate import ConditioningWarning, NonFiniteError, ReferenceWarning
from .base import BNEval, LinearProblem, Problem, Solution
from .data import SingularCovarianceError, prepare_data
from .halfspace import (
    EmpiricalHalfspace,
    GaussianHalfspace,
    Halfspace,
    NoFiniteMinimizerError,
    QuadratureWarning,
)
from .losses import LOSSES, Loss, get_loss
from .mlp import MLP, UnitLengthModel, UnitView
from .normalization import NORMALIZATIONS, Normalizer
from .ols import OLS
from .taylor import CertifiedDerivative, Expansion

__all__ = [
    "BNEval",
    "CertifiedDerivative",
    "ConditioningWarning",
    "EmpiricalHalfspace",
    "Expansion",
    "GaussianHalfspace",
    "Halfspace",
    "LOSSES",
    "LinearProblem",
    "Loss",
    "MLP",
    "NORMALIZATIONS",
    "NoFiniteMinimizerError",
    "QuadratureWarning",
    "ReferenceWarning",
    "NonFiniteError",
    "Normalizer",
    "OLS",
    "Problem",
    "SingularCovarianceError",
    "Solution",
    "UnitLengthModel",
    "UnitView",
    "get_loss",
    "prepare_data",
]

# the exceptions and warnings print under the path users import them from (numpy's practice):
# "gdnp.problems.NonFiniteError", not the private module that defines it
for _cls in (ConditioningWarning, NonFiniteError, ReferenceWarning, NoFiniteMinimizerError,
             QuadratureWarning, SingularCovarianceError):
    _cls.__module__ = __name__
del _cls
