"""Dimension-free vector algebra: proofs that hold for every dimension ``d`` (theory guide §0).

A vector is a finite linear combination of *words* ``S^k a`` (``a`` a primitive vector such as
``w``, ``u`` or ``G``; ``k`` an integer, ``k = -1`` is ``S^-1``) with scalar coefficients that
are sympy expressions in ordinary scalars and in the *inner-product symbols*
``<a|k|b> = a' S^k b``. ``S`` is symmetric positive definite and of any size ``d``.

Why this proves statements for general ``d``: every operation used here is exact in any
dimension -- ``(S^i a)'(S^j b) = a' S^(i+j) b`` (``S`` symmetric), the gradient of
``a' S^k w`` in ``w`` is ``S^k a`` (``2 S^k w`` if ``a = w``), the chain rule for a scalar
function of finitely many inner products, and the directional derivative of a word. Two
vectors are declared equal when the coefficients of every word agree as scalar expressions;
this is *sufficient* (equal coefficients give equal vectors in every dimension), so a proof
never depends on ``d``. A matrix identity ``M = N`` is proved as the bilinear identity
``h' M k = h' N k`` (or ``M h = N h``) for free primitive vectors ``h``, ``k``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sympy as sp

from .core import Identity

__all__ = ["Space", "Vec", "vec_identity"]

Word = tuple[str, int]


@dataclass(frozen=True)
class Vec:
    """A vector ``sum_j c_j S^(k_j) a_j`` (``terms`` maps ``(a_j, k_j)`` to ``c_j``)."""

    terms: Mapping[Word, sp.Expr]
    space: Space

    def _new(self, terms: Mapping[Word, sp.Expr]) -> Vec:
        return Vec({k: v for k, v in terms.items() if v != 0}, self.space)

    def __add__(self, other: Vec) -> Vec:
        out = dict(self.terms)
        for k, v in other.terms.items():
            out[k] = out.get(k, sp.S.Zero) + v
        return self._new(out)

    def __neg__(self) -> Vec:
        return self._new({k: -v for k, v in self.terms.items()})

    def __sub__(self, other: Vec) -> Vec:
        return self + (-other)

    def __mul__(self, c: sp.Expr) -> Vec:
        c = sp.sympify(c)
        return self._new({k: c * v for k, v in self.terms.items()})

    __rmul__ = __mul__

    def __truediv__(self, c: sp.Expr) -> Vec:
        return self * (1 / sp.sympify(c))

    def S(self, power: int = 1) -> Vec:
        """``S^power`` applied to the vector."""
        return self._new({(a, k + power): v for (a, k), v in self.terms.items()})

    def dot(self, other: Vec) -> sp.Expr:
        """``self' other`` as a scalar in the inner-product symbols."""
        sp_ = self.space
        return sp.Add(
            *(
                c1 * c2 * sp_.ip(a, i + j, b)
                for (a, i), c1 in self.terms.items()
                for (b, j), c2 in other.terms.items()
            )
        )

    def norm2(self, power: int = 0) -> sp.Expr:
        """``self' S^power self`` (``power = 1``: the S-norm squared)."""
        return self.dot(self.S(power))

    def map(self, fn) -> Vec:
        """Apply ``fn`` to every coefficient."""
        return self._new({k: fn(v) for k, v in self.terms.items()})


class Space:
    """The primitive vectors, their inner-product symbols and the calculus on them.

    Parameters
    ----------
    names : iterable of str
        Names of the primitive vectors (``"w"``, ``"u"``, ...).
    matrix : str
        Name of the symmetric positive definite matrix (``"S"``; ``"I"`` for the identity, in
        which case every power collapses to ``S^0``).
    """

    def __init__(self, names: Iterable[str], matrix: str = "S") -> None:
        self.names = tuple(names)
        self.matrix = matrix
        self._ips: dict[tuple[str, int, str], sp.Symbol] = {}
        self._where: dict[sp.Symbol, tuple[str, int, str]] = {}

    def v(self, name: str) -> Vec:
        """The primitive vector ``name``."""
        if name not in self.names:
            raise ValueError(f"unknown primitive vector {name!r}")
        return Vec({(name, 0): sp.S.One}, self)

    def ip(self, a: str, k: int, b: str) -> sp.Symbol:
        """The symbol ``a' S^k b`` (symmetric in ``a``, ``b``; positive when ``a = b``)."""
        if self.matrix == "I":
            k = 0
        a, b = sorted((a, b))
        key = (a, k, b)
        if key not in self._ips:
            mid = "" if k == 0 else (self.matrix if k == 1 else f"{self.matrix}^{k}")
            name = f"<{a}|{mid}|{b}>" if mid else f"<{a}|{b}>"
            sym = sp.Symbol(name, positive=True) if a == b else sp.Symbol(name, real=True)
            self._ips[key] = sym
            self._where[sym] = key
        return self._ips[key]

    def ips(self, expr: sp.Expr | Vec) -> set[sp.Symbol]:
        """The inner-product symbols occurring in ``expr``."""
        if isinstance(expr, Vec):
            syms: set[sp.Symbol] = set()
            for c in expr.terms.values():
                syms |= self.ips(c)
            return syms
        return {s for s in sp.sympify(expr).free_symbols if s in self._where}

    def grad(self, expr: sp.Expr, wrt: str) -> Vec:
        """Gradient of a scalar ``expr`` with respect to the primitive vector ``wrt``.

        Chain rule over the inner products: ``d(a'S^k b)/dwrt`` is ``S^k b`` for ``a = wrt``
        (plus ``S^k a`` for ``b = wrt``); other scalar symbols are constants.
        """
        out = Vec({}, self)
        for sym in self.ips(expr):
            a, k, b = self._where[sym]
            if wrt not in (a, b):
                continue
            partial = sp.diff(expr, sym)
            if partial == 0:
                continue
            part = Vec({}, self)
            if a == wrt:
                part = part + self.v(b).S(k)
            if b == wrt:
                part = part + self.v(a).S(k)
            out = out + part * partial
        return out

    def directional(self, x: sp.Expr | Vec, wrt: str, h: Vec) -> sp.Expr | Vec:
        """Derivative of a scalar or vector ``x`` along ``h`` (``h`` a change of ``wrt``)."""
        if not isinstance(x, Vec):
            return self.grad(x, wrt).dot(h)
        out = Vec({}, self)
        for (a, k), c in x.terms.items():
            out = out + self.v(a).S(k) * self.grad(c, wrt).dot(h)
            if a == wrt:
                out = out + h.S(k) * c
        return out

    def substitute(self, x: sp.Expr | Vec, values: Mapping[str, Vec]) -> sp.Expr | Vec:
        """Replace primitive vectors by vector expressions (in words and inner products)."""
        if isinstance(x, Vec):
            out = Vec({}, self)
            for (a, k), c in x.terms.items():
                base = values[a] if a in values else self.v(a)
                out = out + base.S(k) * self.substitute(c, values)
            return out
        repl = {}
        for sym in self.ips(x):
            a, k, b = self._where[sym]
            if a in values or b in values:
                va = values.get(a, self.v(a))
                vb = values.get(b, self.v(b))
                repl[sym] = va.dot(vb.S(k))
        return sp.sympify(x).xreplace(repl) if repl else x


def vec_identity(
    lhs: Vec,
    rhs: Vec,
    method: str = "cancel",
    relations: tuple[tuple[sp.Symbol, sp.Expr], ...] = (),
    label: str = "",
) -> Identity:
    """The identity ``lhs == rhs`` as a column of word coefficients (any dimension ``d``).

    The words of both sides are listed in one order; the identity holds when every word's
    coefficient difference is zero by ``method`` (see :class:`gdnp.proofs.core.Identity`).
    """
    words = sorted(set(lhs.terms) | set(rhs.terms))
    if not words:
        return Identity(sp.S.Zero, sp.S.Zero, method, relations, label)
    left = sp.Matrix([lhs.terms.get(w, sp.S.Zero) for w in words])
    right = sp.Matrix([rhs.terms.get(w, sp.S.Zero) for w in words])
    return Identity(left, right, method, relations, label)
