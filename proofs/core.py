"""The check machinery shared by every topic module (theory guide §8).

An *identity* is a pair ``(lhs, rhs)`` of sympy expressions or matrices together with the exact
method that decides ``lhs == rhs``; a *check* bundles one or more identities with a name, a
one-line statement, a source and the expected outcome. The decision is always exact
(``simplify``/``cancel``/``expand`` of ``lhs - rhs`` to the zero expression, entrywise for
matrices, possibly after reducing modulo the defining relation ``r**2 = Q`` of a square root);
nothing here evaluates an expression at floating-point points.

Design for testability: a check's ``build`` returns its identities, and :func:`prove` decides
any identity; a deliberately wrong variant is obtained by editing ``rhs``
(``Identity.with_rhs``) and must then be rejected by the same prover.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import sympy as sp
from sympy.polys.domains import QQ
from sympy.polys.polyerrors import CoercionFailed
from sympy.polys.rings import PolyElement, PolyRing, sring, xring

__all__ = [
    "METHODS",
    "Check",
    "Counterexample",
    "Identity",
    "bound_counterexample",
    "counterexample",
    "prove",
    "reduce_sqrt",
    "refute",
    "residual",
]

METHODS = ("cancel", "expand", "simplify", "relation")

Expr = sp.Expr | sp.MatrixBase


@dataclass(frozen=True)
class Identity:
    """A claimed equality ``lhs == rhs`` and the exact method that decides it.

    Parameters
    ----------
    lhs, rhs : sympy expression or Matrix
        The two sides; matrices are compared entrywise and must have equal shapes.
    method : {"cancel", "expand", "simplify", "relation"}
        ``"expand"``: polynomial identity (``expand(lhs - rhs) == 0``);
        ``"cancel"``: rational-function identity (``cancel(together(lhs - rhs)) == 0``);
        ``"simplify"``: ``simplify(lhs - rhs) == 0``;
        ``"relation"``: every square root ``sqrt(Q)`` listed in ``relations`` is replaced by
        its positive symbol ``r``, the difference is brought to one fraction and its numerator
        is reduced modulo ``r**2 - Q``; both remaining coefficients (of ``1`` and ``r``) must
        expand to zero.
    relations : tuple of (Symbol, Expr)
        Pairs ``(r, Q)`` meaning ``r = sqrt(Q) > 0``; used by ``method="relation"``.
    label : str
        Short description shown when a check has several identities.

    Raises
    ------
    ValueError
        If ``method`` is unknown.

    Examples
    --------
    An identity is decided by :func:`prove` (theory guide §8):

    >>> import sympy as sp
    >>> from gdnp.proofs import Identity, prove
    >>> x, y = sp.symbols("x y")
    >>> square = Identity((x + y) ** 2, x**2 + 2 * x * y + y**2, method="expand")
    >>> prove(square)
    True
    """

    lhs: Expr
    rhs: Expr
    method: str = "cancel"
    relations: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    label: str = ""

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")

    def with_rhs(self, rhs: Expr) -> Identity:
        """Return a copy with another right-hand side (used to build wrong variants).

        The documented discrepancies of theory guide §8 are built this way.

        Parameters
        ----------
        rhs : sympy expression or Matrix
            The new right-hand side.

        Returns
        -------
        Identity
            The same ``lhs``, ``method``, ``relations`` and ``label`` with ``rhs``.

        Examples
        --------
        >>> import sympy as sp
        >>> from gdnp.proofs import Identity, prove
        >>> x, y = sp.symbols("x y")
        >>> square = Identity((x + y) ** 2, x**2 + 2 * x * y + y**2, method="expand")
        >>> prove(square.with_rhs(x**2 + y**2))
        False
        """
        return replace(self, rhs=rhs)


def _entries(expr: Expr) -> list[sp.Expr]:
    if isinstance(expr, sp.MatrixBase):
        return list(expr)
    return [sp.sympify(expr)]


def reduce_sqrt(expr: sp.Expr, relations: Sequence[tuple[sp.Symbol, sp.Expr]]) -> sp.Expr:
    """Replace the powers ``Q**(k/2)`` by ``r**k`` for each relation ``(r, Q)``.

    Parameters
    ----------
    expr : sympy expression
    relations : sequence of (Symbol, Expr)
        ``r`` stands for ``sqrt(Q)``.

    Returns
    -------
    sympy expression
        ``expr`` with the half-integer and integer powers of each ``Q`` (as a factor, not the
        bare sum ``Q`` itself) rewritten in ``r``; the numerator is reduced modulo
        ``r**2 - Q`` afterwards, so any remaining occurrence of ``Q`` is harmless.
    """
    for r, q in relations:
        q_exp = sp.expand(q)

        def is_power(e: sp.Basic, q=q, q_exp=q_exp) -> bool:
            return (
                e.is_Pow
                and e.exp.is_Rational
                and e.exp.q in (1, 2)
                and (e.base == q or e.base == q_exp)
            )

        def to_r(e: sp.Pow, r=r) -> sp.Expr:
            return r ** (e.exp.p * (2 // e.exp.q))

        expr = expr.replace(is_power, to_r)
    return expr


def _common_ring(exprs: list[sp.Expr]) -> tuple[PolyRing, list[PolyElement]]:
    """Sparse polynomial ring holding every expression (fast path: plain symbols over QQ)."""
    symbols = sorted(set().union(*(e.free_symbols for e in exprs)), key=str)
    try:
        ring, *_ = xring(symbols, QQ)
        return ring, [ring.from_expr(e) for e in exprs]
    except (ValueError, CoercionFailed):  # other generators (functions, exp): generic path
        ring, polys = sring(exprs)
        return ring, list(polys)


def _zero_modulo(expr: sp.Expr, relations: Sequence[tuple[sp.Symbol, sp.Expr]]) -> bool:
    return _residual_modulo(expr, relations) == 0


def _residual_modulo(expr: sp.Expr, relations: Sequence[tuple[sp.Symbol, sp.Expr]]) -> sp.Expr:
    """Decide ``expr == 0`` given ``r = sqrt(Q) > 0`` for each relation (exactly).

    The numerator of ``expr`` (its denominator is a product of non-zero factors) is turned into
    a polynomial with the ``r`` symbols as leading generators and divided by the monic
    polynomials ``r**2 - Q``; the identity holds on the variety ``r**2 = Q`` when the remainder
    is the zero polynomial. The remainder is linear in each ``r``: when it vanishes, the
    numerator vanishes at ``r = sqrt(Q)``; this is a sufficient condition and, for ``Q`` not a
    perfect square, also necessary. Returns the remainder (as an expression; ``0`` when the
    identity holds).
    """
    expr = reduce_sqrt(sp.sympify(expr), relations)
    num, _den = sp.fraction(sp.together(expr))
    if num == 0:
        return sp.S.Zero
    ring, polys = _common_ring([num] + [q for _, q in relations])
    poly = polys[0]
    for (r, _q), q_poly in zip(relations, polys[1:], strict=True):
        if r not in ring.symbols:
            continue
        i = ring.symbols.index(r)
        powers = [ring.one]
        reduced = ring.zero
        for monom, coeff in poly.terms():
            k = monom[i]
            while len(powers) <= k // 2:
                powers.append(powers[-1] * q_poly)
            rest = monom[:i] + (k % 2,) + monom[i + 1 :]
            reduced += ring({rest: coeff}) * powers[k // 2]
        poly = reduced
    return poly.as_expr() if poly != 0 else sp.S.Zero


def _entry_residual(diff: sp.Expr, identity: Identity) -> sp.Expr:
    """``lhs - rhs`` reduced by the identity's exact method (``0`` when it holds)."""
    if diff == 0:
        return sp.S.Zero
    method = identity.method
    if method == "expand":
        return sp.expand(diff)
    if method == "cancel":
        return sp.cancel(sp.together(diff))
    if method == "simplify":
        return sp.simplify(diff)
    return _residual_modulo(diff, identity.relations)


def _entry_zero(diff: sp.Expr, identity: Identity) -> bool:
    return _entry_residual(diff, identity) == 0


def residual(identity: Identity) -> tuple[int, sp.Expr] | None:
    """The first entry where ``identity`` is not proved and its reduced residual.

    Returns
    -------
    (int, sympy expression) or None
        ``(index, residual)`` of the first non-zero entry of the reduced ``lhs - rhs``
        (``(-1, nan)`` on a shape mismatch); ``None`` when the identity is proved.
    """
    lhs, rhs = _entries(identity.lhs), _entries(identity.rhs)
    shape_l = getattr(identity.lhs, "shape", None)
    shape_r = getattr(identity.rhs, "shape", None)
    if shape_l != shape_r or len(lhs) != len(rhs):
        return -1, sp.nan
    for k, (a, b) in enumerate(zip(lhs, rhs, strict=True)):
        res = _entry_residual(a - b, identity)
        if res != 0:
            return k, res
    return None


def prove(identity: Identity) -> bool:
    """Decide exactly whether ``identity.lhs == identity.rhs``.

    Parameters
    ----------
    identity : Identity

    Returns
    -------
    bool
        ``True`` only if the chosen exact method reduces ``lhs - rhs`` (every entry, for
        matrices) to zero; ``False`` otherwise, including on a shape mismatch.

    Examples
    --------
    The exact decision behind every check of theory guide §8:

    >>> import sympy as sp
    >>> from gdnp.proofs import Identity, prove
    >>> x, y = sp.symbols("x y", positive=True)
    >>> prove(Identity((x**2 - y**2) / (x - y), x + y))
    True
    >>> prove(Identity((x + y) ** 2, x**2 + y**2, method="expand"))
    False
    """
    lhs, rhs = _entries(identity.lhs), _entries(identity.rhs)
    if isinstance(identity.lhs, sp.MatrixBase) or isinstance(identity.rhs, sp.MatrixBase):
        shape_l = getattr(identity.lhs, "shape", None)
        shape_r = getattr(identity.rhs, "shape", None)
        if shape_l != shape_r:
            return False
    if len(lhs) != len(rhs):
        return False
    return all(_entry_zero(a - b, identity) for a, b in zip(lhs, rhs, strict=True))


@dataclass(frozen=True)
class Counterexample:
    """An exact point where a published form and the proved one give different values.

    Attributes
    ----------
    point : dict of str to str
        The rational values of the free symbols (relation symbols ``r = sqrt(Q)`` included).
    lhs, rhs : str
        The two values (exact, as text) of the entry ``where`` the sides differ.
    claim : str
        The published relation between them: ``"=="`` (an identity) or ``"<="`` (a bound).
    refutes : bool
        Whether the values contradict the claim (decided exactly).
    where : str
        Which entry / label the values belong to.
    """

    point: dict[str, str]
    lhs: str
    rhs: str
    claim: str
    refutes: bool
    where: str = ""

    def to_dict(self) -> dict:
        """JSON-friendly record: point, the two values, the claim and whether it refutes."""
        return {
            "point": dict(self.point),
            "lhs": self.lhs,
            "rhs": self.rhs,
            "claim": self.claim,
            "refutes": self.refutes,
            "where": self.where,
        }

    def describe(self) -> str:
        """One line: ``at {point}: lhs = .., rhs = .. (claim lhs <= rhs is false)``."""
        pt = ", ".join(f"{k}={v}" for k, v in self.point.items())
        verdict = "false" if self.refutes else "NOT refuted"
        where = f" [{self.where}]" if self.where else ""
        return (
            f"at {pt}{where}: lhs = {self.lhs}, rhs = {self.rhs} "
            f"(claim 'lhs {self.claim} rhs' {verdict})"
        )


def _exact(value: sp.Expr) -> sp.Expr:
    return value if value.is_Rational else sp.simplify(value)


def _point_values(
    identity_relations: Sequence[tuple[sp.Symbol, sp.Expr]], point: dict
) -> dict[sp.Symbol, sp.Expr]:
    values = {k: sp.Rational(v) for k, v in point.items()}
    for r, q in identity_relations:
        values[r] = sp.sqrt(sp.sympify(q).subs(values))
    return values


def counterexample(identity: Identity, point: dict[sp.Symbol, sp.Expr]) -> Counterexample:
    """Evaluate both sides of ``identity`` exactly at a rational ``point``.

    Parameters
    ----------
    identity : Identity
        The published (claimed) identity.
    point : dict
        Rational values for every free symbol except the relation symbols ``r``, which are set
        to ``sqrt(Q(point))``; the point should make every ``Q`` a perfect rational square.

    Returns
    -------
    Counterexample
        The first entry where the two sides differ (``refutes=True``), or the values of the
        first entry when they agree everywhere (``refutes=False``).
    """
    values = _point_values(identity.relations, point)
    shown = {str(k): str(v) for k, v in sorted(values.items(), key=lambda kv: str(kv[0]))}
    first = None
    for k, (a, b) in enumerate(zip(_entries(identity.lhs), _entries(identity.rhs), strict=True)):
        va = _exact(sp.sympify(a).subs(values))
        vb = _exact(sp.sympify(b).subs(values))
        diff = _exact(va - vb)
        where = identity.label + (f" entry {k}" if isinstance(identity.lhs, sp.MatrixBase) else "")
        if first is None:
            first = (va, vb, where)
        if diff.is_Rational and diff != 0:
            return Counterexample(shown, str(va), str(vb), "==", True, where.strip())
    va, vb, where = first if first else (sp.S.Zero, sp.S.Zero, "")
    return Counterexample(shown, str(va), str(vb), "==", False, where.strip())


def bound_counterexample(
    lhs: sp.Expr, rhs: sp.Expr, point: dict[sp.Symbol, sp.Expr], where: str = ""
) -> Counterexample:
    """Exact evaluation of a published bound ``lhs <= rhs`` at a rational ``point``.

    ``refutes`` is true when ``lhs - rhs`` evaluates to a positive rational number.
    """
    values = {k: sp.Rational(v) for k, v in point.items()}
    va, vb = _exact(sp.sympify(lhs).subs(values)), _exact(sp.sympify(rhs).subs(values))
    diff = _exact(va - vb)
    refutes = bool(diff.is_Rational and diff > 0)
    shown = {str(k): str(v) for k, v in values.items()}
    return Counterexample(shown, str(va), str(vb), "<=", refutes, where)


def refute(identity: Identity, point: dict[sp.Symbol, sp.Expr]) -> bool:
    """Exhibit an exact rational counterexample: ``lhs != rhs`` at ``point``.

    Parameters
    ----------
    identity : Identity
    point : dict
        Rational values for every free symbol except the relation symbols ``r``, which are set
        to ``sqrt(Q(point))``; the point must make every ``Q`` a perfect rational square so
        that both sides evaluate to rational numbers (no floating point is involved).

    Returns
    -------
    bool
        ``True`` if some entry of ``lhs - rhs`` evaluates to a non-zero rational number.

    Examples
    --------
    A documented discrepancy is refuted at an exact point (theory guide §8):

    >>> import sympy as sp
    >>> from gdnp.proofs import Identity, refute
    >>> x, y = sp.symbols("x y")
    >>> refute(Identity((x + y) ** 2, x**2 + y**2), {x: 1, y: 1})
    True
    """
    return counterexample(identity, point).refutes


@dataclass(frozen=True)
class Check:
    """One named identity (or small family of identities) of the theory guide.

    Attributes
    ----------
    name : str
        Unique dotted name ``topic.short_name``.
    topic : str
        One of the topics of :data:`gdnp.proofs.TOPICS`.
    statement : str
        One line: what is claimed, and in which dimension it is proved.
    source : str
        Where the identity comes from (``theory guide §2 (3)``, ``K19``, ``IS15`` ...).
    build : callable
        ``build() -> list[Identity]``; the check holds iff every identity is proved.
    expected : {"holds", "fails"}
        ``"fails"`` marks a *documented discrepancy*: a published form that is false in
        general, kept so that the report shows the difference.
    counterexample : callable or None
        For a documented discrepancy, ``counterexample() -> Counterexample``: the exact point
        and the two values (see ``counterexample``); a discrepancy whose counterexample
        does not refute it makes ``gdnp verify`` fail.
    generality : str
        In which generality the statement is proved: ``"general d"``, ``"d = 3, 4"``,
        ``"n = 3, 4, 5"``, ``"phi polynomial/exp"`` ...

    The attributes are also the constructor's parameters (a frozen dataclass).

    Raises
    ------
    ValueError
        If ``expected`` is not ``"holds"`` or ``"fails"``, or ``name`` does not start with
        ``topic + "."``.

    Examples
    --------
    >>> import sympy as sp
    >>> from gdnp.proofs import Check, Identity
    >>> x = sp.Symbol("x")
    >>> check = Check("demo.square", "demo", "(x+1)^2 = x^2+2x+1", "theory guide §8",
    ...               lambda: [Identity((x + 1) ** 2, x**2 + 2 * x + 1, method="expand")])
    >>> check.prove(), check.first_failure()
    (True, None)
    """

    name: str
    topic: str
    statement: str
    source: str
    build: Callable[[], list[Identity]] = field(repr=False)
    expected: str = "holds"
    counterexample: Callable[[], Counterexample] | None = field(default=None, repr=False)
    generality: str = ""

    def __post_init__(self) -> None:
        if self.expected not in ("holds", "fails"):
            raise ValueError(f"expected must be 'holds' or 'fails', got {self.expected!r}")
        if not self.name.startswith(self.topic + "."):
            raise ValueError(f"check name {self.name!r} must start with its topic {self.topic!r}")

    def identities(self) -> list[Identity]:
        """Build the identities of this check (symbolic construction only; theory guide §8).

        Returns
        -------
        list of Identity
            What ``build()`` returns.

        Examples
        --------
        >>> from gdnp.proofs import get_check
        >>> len(get_check("bn.scale_invariance").identities())
        2
        """
        return list(self.build())

    def prove(self) -> bool:
        """Return whether sympy proves every identity of the check (theory guide §8).

        Returns
        -------
        bool
            ``True`` iff :func:`prove` holds for every identity; ``False`` is expected for a
            documented discrepancy (``expected="fails"``).

        Examples
        --------
        >>> from gdnp.proofs import get_check
        >>> get_check("bn.scale_invariance").prove()
        True
        >>> get_check("k19.length_bound_as_quoted").prove()
        False
        """
        return all(prove(identity) for identity in self.identities())

    def first_failure(self) -> tuple[str, str] | None:
        """``(label, simplified residual)`` of the first identity not proved, else ``None``.

        Returns
        -------
        tuple of (str, str) or None
            The identity's label (with the matrix entry) and its residual ``lhs - rhs`` after
            the exact reduction, or ``None`` when every identity is proved (theory guide §8).

        Examples
        --------
        >>> from gdnp.proofs import get_check
        >>> get_check("bn.scale_invariance").first_failure() is None
        True
        >>> label, res = get_check("k19.length_bound_as_quoted").first_failure()
        >>> label
        '(d_g f(a_T))^2 = 2^-T zeta |b-a|/mu^2 (quoted)'
        """
        for k, identity in enumerate(self.identities()):
            found = residual(identity)
            if found is not None:
                entry, res = found
                label = identity.label or f"identity {k + 1}"
                if isinstance(identity.lhs, sp.MatrixBase) and entry >= 0:
                    label += f" (entry {entry})"
                return label, str(res)
        return None
