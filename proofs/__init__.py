"""Symbolic (sympy) verification of the identities of the theory guide (§1-§5, §8, §12).

Each topic module holds small named checks (:class:`~gdnp.proofs.core.Check`), each with a
one-line statement, its source, its generality (``general d`` for the dimension-free proofs of
``gdnp.proofs.vectors``, else the sizes it is proved at), and a builder of exact
identities decided by ``prove`` -- never by floating-point spot checks.

Topics: ``bn`` (theory guide §1), ``ols`` (§2), ``halfspace`` (§3), ``gdnp`` (§4), ``mlp`` (§5),
``c19`` (BNGD's local theory, §2 and §12), ``k19`` (GDNP's rate statements, §2 and §4),
``landscape`` (Santurkar et al. 2018), ``backprop`` (IS15, §8), ``norm`` (normalizations as a
choice of norm, §10). The registry below is one
line per topic module.

Examples
--------
>>> from gdnp.proofs import CHECKS, TOPICS, run_checks
>>> results = run_checks(only=["gdnp"])          # doctest: +SKIP
>>> [r.status for r in results]                  # doctest: +SKIP
['proved', 'proved', 'discrepancy']

``gdnp verify`` (or ``python -m gdnp.proofs``) runs them all and prints a report.
"""

from __future__ import annotations

from . import backprop, bn, c19, gdnp_step, halfspace, k19, landscape, mlp, normalization, ols
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

#: Topic modules in report order (one line each; a module's checks share its topic).
_MODULES = [
    bn,
    ols,
    halfspace,
    gdnp_step,
    mlp,
    c19,
    k19,
    landscape,
    backprop,
    normalization,
]

#: Every check, in report order.
CHECKS: list[Check] = [check for module in _MODULES for check in module.CHECKS]

#: Topic names, in report order.
TOPICS: tuple[str, ...] = tuple(dict.fromkeys(module.CHECKS[0].topic for module in _MODULES))

_BY_NAME = {check.name: check for check in CHECKS}
assert len(_BY_NAME) == len(CHECKS), "check names must be unique"
assert {check.topic for check in CHECKS} == set(TOPICS)


def get_check(name: str) -> Check:
    """Return the registered check called ``name`` (theory guide §8).

    Parameters
    ----------
    name : str
        A dotted check id ``topic.short_name`` (see ``CHECKS``).

    Returns
    -------
    Check
        The registered check.

    Raises
    ------
    KeyError
        If no check has that name.

    Examples
    --------
    >>> from gdnp.proofs import get_check
    >>> check = get_check("bn.scale_invariance")
    >>> check.topic, check.generality, check.prove()
    ('bn', 'general d', True)
    """
    return _BY_NAME[name]
