"""Symbolic (sympy) verification of the identities of MATH.md (marked **[P]**, and §8).

Each topic module holds small named checks (:class:`~gdnp.proofs.core.Check`), each with a
one-line statement, its source, and a builder of exact identities decided by
:func:`~gdnp.proofs.core.prove` — never by floating-point spot checks.

Topics: ``bn`` (§1), ``ols`` (§2), ``halfspace`` (§3), ``gdnp`` (§4), ``mlp`` (§5),
``backprop`` (IS15, §8), ``norm`` (normalizations as a choice of norm, theory guide §10).

Examples
--------
>>> from gdnp.proofs import CHECKS, TOPICS, run_checks
>>> results = run_checks(only=["gdnp"])          # doctest: +SKIP
>>> [r.status for r in results]                  # doctest: +SKIP
['proved', 'proved', 'discrepancy']

``gdnp verify`` (or ``python -m gdnp.proofs``) runs them all and prints a report.
"""

from __future__ import annotations

from . import backprop, bn, gdnp_step, halfspace, mlp, normalization, ols
from .core import Check, Identity, prove, refute
from .runner import CheckResult, run_checks, summarize

__all__ = [
    "CHECKS",
    "TOPICS",
    "Check",
    "CheckResult",
    "Identity",
    "get_check",
    "prove",
    "refute",
    "run_checks",
    "summarize",
]

#: Topic names, in report order.
TOPICS: tuple[str, ...] = ("bn", "ols", "halfspace", "gdnp", "mlp", "backprop", "norm")

#: Every check, in report order.
CHECKS: list[Check] = [
    *bn.CHECKS,
    *ols.CHECKS,
    *halfspace.CHECKS,
    *gdnp_step.CHECKS,
    *mlp.CHECKS,
    *backprop.CHECKS,
    *normalization.CHECKS,
]

_BY_NAME = {check.name: check for check in CHECKS}
assert len(_BY_NAME) == len(CHECKS), "check names must be unique"
assert {check.topic for check in CHECKS} == set(TOPICS)


def get_check(name: str) -> Check:
    """Return the registered check called ``name`` (``KeyError`` if unknown)."""
    return _BY_NAME[name]
