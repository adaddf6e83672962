"""Symbolic building blocks: vectors, symmetric matrices, ``||w||_S`` and generic functions.

Used by every topic module (theory guide §0 notation). All symbols are real; lengths and norms
that the theory guide takes positive are declared positive so that ``sqrt`` simplifies soundly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy as sp

__all__ = [
    "dot",
    "gradient",
    "jacobian",
    "replace_derivatives",
    "sym_matrix",
    "vec",
]


def vec(name: str, d: int, **assumptions: bool) -> sp.Matrix:
    """Column vector of ``d`` real symbols ``name1 .. name_d``."""
    assumptions.setdefault("real", True)
    return sp.Matrix(sp.symbols(f"{name}1:{d + 1}", **assumptions))


def sym_matrix(name: str, d: int) -> sp.Matrix:
    """General symmetric ``d x d`` matrix of real symbols ``name_ij`` (``i <= j``)."""
    entries: dict[tuple[int, int], sp.Symbol] = {}
    for i in range(d):
        for j in range(i, d):
            entries[(i, j)] = entries[(j, i)] = sp.Symbol(f"{name}{i + 1}{j + 1}", real=True)
    return sp.Matrix(d, d, lambda i, j: entries[(i, j)])


def dot(a: sp.Matrix, b: sp.Matrix) -> sp.Expr:
    """Euclidean inner product ``a' b`` of two column vectors, as a scalar."""
    return (a.T * b)[0, 0]


def gradient(expr: sp.Expr, w: sp.Matrix) -> sp.Matrix:
    """Column vector of partial derivatives of ``expr`` with respect to the entries of ``w``."""
    return sp.Matrix([sp.diff(expr, wi) for wi in w])


def jacobian(fvec: sp.Matrix, w: sp.Matrix) -> sp.Matrix:
    """Jacobian ``d fvec / d w`` (rows: components of ``fvec``)."""
    return fvec.jacobian(w)


def replace_derivatives(
    expr: sp.Expr | sp.Matrix,
    func: sp.FunctionClass,
    partials: Sequence[sp.Symbol] | Mapping[tuple[int, ...], sp.Symbol],
) -> sp.Expr | sp.Matrix:
    """Replace the partial derivatives of an undefined function by symbols.

    sympy represents ``d/dx F(a(x), ...)`` as ``Subs(Derivative(F(xi, ...), xi), xi, a(x))``
    (or as ``Derivative(F(x, ...), x)`` when the argument is a symbol). This names each partial
    derivative of ``func``, evaluated at the current argument, by a symbol.

    Parameters
    ----------
    expr : sympy expression or Matrix
    func : undefined sympy Function
    partials : sequence of Symbol, or mapping from slot tuples to Symbol
        A sequence gives the first partial in slot ``k`` as ``partials[k]``; a mapping is keyed
        by the sorted tuple of differentiated slots, e.g. ``{(0,): l1, (0, 0): l2}`` for the
        first and second derivative of a function of one variable.

    Returns
    -------
    The expression with the derivatives replaced.

    Raises
    ------
    ValueError
        If a derivative of ``func`` is left that ``partials`` does not name.
    """

    def key_of(deriv: sp.Derivative) -> tuple[int, ...]:
        args = list(deriv.expr.args)
        slots: list[int] = []
        for var, count in deriv.variable_count:
            slots.extend([args.index(var)] * int(count))
        return tuple(sorted(slots))

    def name(key: tuple[int, ...]) -> sp.Symbol:
        if isinstance(partials, Mapping):
            if key not in partials:
                raise ValueError(f"no symbol given for the derivative in slots {key}")
            return partials[key]
        if len(key) != 1:
            raise ValueError(f"only first derivatives named, got slots {key}")
        return partials[key[0]]

    def is_ours(d: sp.Basic) -> bool:
        return isinstance(d, sp.Derivative) and getattr(d.expr, "func", None) == func

    def is_subs(e: sp.Basic) -> bool:
        return isinstance(e, sp.Subs) and is_ours(e.expr)

    def from_subs(e: sp.Subs) -> sp.Symbol:
        return name(key_of(e.expr))

    def from_deriv(e: sp.Derivative) -> sp.Symbol:
        return name(key_of(e))

    def apply(x: sp.Expr) -> sp.Expr:
        x = x.replace(is_subs, from_subs)
        x = x.replace(is_ours, from_deriv)
        if any(is_ours(a) for a in sp.preorder_traversal(x)):
            raise ValueError("a derivative of the generic function was left unreplaced")
        return x

    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(apply)
    return apply(expr)
