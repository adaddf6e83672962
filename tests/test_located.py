"""The length search of GDNP takes plain bisection's halvings bit for bit on every problem form
(population and empirical halfspaces, OLS, the MLP unit by unit), whatever decides the signs:
plain evaluation, the Taylor certificates or the located root with mass-ratio certificates."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gdnp
from gdnp import bisect
from gdnp.problems import MLP, OLS, Halfspace
from gdnp.problems.taylor import MassRatioLocator

from conftest import halfspace_data


def _reference_bisect(fun, a, b, maxiter):
    """Textbook bisection (no expansion): evaluate every midpoint."""
    fa, fb = fun(a), fun(b)
    assert fa < 0.0 < fb
    for _ in range(maxiter):
        m = 0.5 * (a + b)
        if m <= a or m >= b:
            break
        fm = fun(m)
        if fm < 0.0:
            a = m
        elif fm > 0.0:
            b = m
        else:
            return m, m
    return a, b


def _directions(prob, k, seed):
    rng = np.random.default_rng(seed)
    for _ in range(k):
        w = rng.standard_normal(prob.dim)
        if abs(prob.u @ w) > 1e-3 * np.linalg.norm(w):
            yield w


@pytest.mark.parametrize("d, separation", [(4, 0.5), (10, 0.9), (30, 0.99), (100, 0.99)])
def test_located_search_equals_plain_bisection_population(d, separation):
    prob = Halfspace.random(d, 100.0, separation=separation, seed=d)
    for w in _directions(prob, 8, d):
        loc = prob.length_locator(w)
        assert isinstance(loc, MassRatioLocator)
        S = prob.length_derivative(w)
        root = bisect(S, -1.0, 1.0, maxiter=60)[0]
        for center in (root, root * 1.3 + 0.7, -abs(root) - 1.0):
            a, b = center - 0.5 * max(abs(center), 1.0), center + 0.5 * max(abs(center), 1.0)
            for T_s in (0, 1, 7, 50, 60):
                plain = bisect(S, a, b, maxiter=T_s)
                fast = bisect(S, a, b, maxiter=T_s, model=prob.length_locator(w))
                assert fast[0] == plain[0]
                assert (fast[1]["a"], fast[1]["b"], fast[1]["nit"]) == (
                    plain[1]["a"], plain[1]["b"], plain[1]["nit"])
                if T_s == 50 and plain[1]["nfev"] > 40:
                    assert fast[1]["nfev"] < 0.5 * plain[1]["nfev"]


def test_batched_values_are_bit_for_bit_the_scalar_ones():
    """One pass at many points gives each point's scalar value exactly (rows are reduced on
    their own, pairwise as np.sum), and the certificate of the mass ratio never lies: every
    computed sign beyond a certifying point agrees with it."""
    prob = Halfspace.random(20, 100.0, separation=0.99, seed=3)
    rng = np.random.default_rng(0)
    for w in _directions(prob, 4, 1):
        loc = prob.length_locator(w)
        ts = np.sort(rng.uniform(-200.0, 200.0, 37))
        v, scale, slope = loc.values(ts, True)
        assert [loc.value(t) for t in ts] == list(v)
        assert np.all(scale >= np.abs(v))
        for j in rng.permutation(ts.size)[:5]:
            v1 = loc.values(ts[j:j + 1], False)[0]
            assert v1[0] == v[j]
        reach = float(np.max(np.abs(ts)))
        for j, t in enumerate(ts):
            if loc.certifies(t, v[j], scale[j], reach):
                assert np.all(np.sign(v[:j] if v[j] < 0 else v[j + 1:]) == np.sign(v[j]))


def test_located_certificates_hold_in_the_rounding_band():
    """Dense midpoints around the root: wherever a point certifies, every computed value on
    its far side (within the reach) has its sign, down to the rounding noise."""
    prob = Halfspace.random(10, 100.0, separation=0.99, seed=5)
    w = next(_directions(prob, 3, 5))
    loc = prob.length_locator(w)
    S = prob.length_derivative(w)
    root = bisect(S, 1.0, 2.0, maxiter=60)[0]
    band = loc.relative_error(2 * abs(root))
    v0, s0, sl0 = loc.values([root], True)
    width = 50 * band * s0[0] / sl0[0][0]
    ts = root + np.linspace(-width, width, 801)
    v, scale, _ = loc.values(ts, False)
    for j in range(0, ts.size, 7):
        if loc.certifies(ts[j], v[j], scale[j], 2 * abs(root)):
            side = v[: j + 1] if v[j] < 0 else v[j:]
            assert np.all(np.sign(side) == np.sign(v[j]))


def _textbook(fun, a, b, maxiter=50, **_):
    """``gdnp.bisect``'s interface on the textbook loop (expanding like it, if needed)."""
    fa, fb = fun(a), fun(b)
    while not fa < 0.0 < fb:
        w = 2.0 * (b - a)
        a, b = (a - w, a) if fa > 0.0 else (b, b + w)
        fa, fb = fun(a), fun(b)
    lo, hi = _reference_bisect(fun, a, b, maxiter)
    return 0.5 * (lo + hi), {"nit": maxiter, "nfev": 0, "ncertified": 0}


@pytest.mark.parametrize("kind", ["population", "population_d100", "empirical", "ols", "mlp"])
def test_gdnp_iterates_identical_to_plain_bisection(kind, monkeypatch):
    """GDNP's whole run (history and final iterate) with the default length search equals the
    run whose bisection is the textbook loop evaluating d_g f at every midpoint."""
    if kind == "population":
        prob = Halfspace.random(10, 100.0, separation=0.99, seed=0)
    elif kind == "population_d100":
        prob = Halfspace.random(100, 100.0, separation=0.99, seed=0)
    elif kind == "empirical":
        X, y = halfspace_data(2, n=2000, d=5)
        prob = Halfspace.from_data(X, y)
    elif kind == "ols":
        prob = OLS.random(10, 100.0, seed=0)
    else:
        prob = MLP.random(4, 3, 10.0, 300, seed=0)
    fast = gdnp.solve(prob, "gdnp", maxiter=80, tol=0.0, seed=0, reference=False, T_s=50)
    monkeypatch.setattr("gdnp.decoupled.bisect", _textbook)
    plain = gdnp.solve(prob, "gdnp", maxiter=80, tol=0.0, seed=0, reference=False, T_s=50)
    np.testing.assert_array_equal(fast.x, plain.x)
    np.testing.assert_array_equal(fast.history["fun"], plain.history["fun"])
    np.testing.assert_array_equal(fast.length, plain.length)


def test_plain_fast_loop_equals_textbook_bisection():
    """The model-free loop (used by OLS and the MLP's units) is textbook bisection."""
    for c in (-3.7, 0.0, 1e-12, 123.456):
        def fun(g, c=c):
            return 2.0 * c + 2.0 * g
        for a, b in ((-200.0, 100.0), (-5.0, 5.0)):
            if not fun(a) < 0.0 < fun(b):
                continue
            root, info = bisect(fun, a, b, maxiter=50)
            ra, rb = _reference_bisect(fun, a, b, 50)
            assert (info["a"], info["b"]) == (ra, rb)
            assert root == 0.5 * (ra + rb)
            assert math.isclose(root, -c, abs_tol=1e-12 * max(1.0, abs(a), abs(b)))


def test_length_functions_are_the_length_derivative_bit_for_bit():
    """What GDNP's loop bisects (``_length_function``) is ``length_derivative``'s value."""
    rng = np.random.default_rng(4)
    for prob in (OLS.random(6, 50.0, seed=2), Halfspace.random(6, 50.0, seed=2),
                 Halfspace.from_data(*halfspace_data(1, n=500, d=6))):
        for w in _directions(prob, 3, 4):
            fast = prob._length_function(prob._state(w))
            plain = prob.length_derivative(w)
            for g in rng.uniform(-50.0, 50.0, 40):
                assert fast(g) == plain(g) == prob.dg_bn(w, g)
