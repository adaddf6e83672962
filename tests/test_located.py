"""The length search of GDNP takes plain bisection's halvings bit for bit on every problem form
(population and empirical halfspaces, OLS, the MLP unit by unit), whatever decides the signs:
plain evaluation, the Taylor certificates or the located root with mass-ratio certificates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _locator_problem(d, separation, normalization):
    """A population halfspace, or (``separation=None``) an empirical one of ``n = 20 d``
    samples with feature scales 1 to 10."""
    if separation is None:
        X, y = halfspace_data(d, n=20 * d, d=d)
        return Halfspace.from_data(X * np.geomspace(1.0, 10.0, d), y,
                                   normalization=normalization)
    return Halfspace.random(d, 100.0, separation=separation, seed=d,
                            normalization=normalization)


def _near_root(prob, w):
    """``(locator, S, root, reach, band half-width at the root)`` for the direction ``w``."""
    loc = prob.length_locator(w)
    S = prob.length_derivative(w)
    root = bisect(S, -1.0, 1.0, maxiter=80)[0]
    _, scale, slope = loc.probe(root)
    return loc, S, root, 2.0 * abs(root) + 1.0, loc.band(root, scale, slope)


LOCATOR_CASES = [(10, 0.99, "batch"), (20, 0.5, "batch"), (6, 0.999, "batch"),
                 (10, 0.99, "weight"), (8, None, "batch"), (5, None, "weight")]


@pytest.mark.parametrize("d, separation, normalization", LOCATOR_CASES)
def test_probe_certificates_hold_down_to_the_rounding_noise(d, separation, normalization):
    """Wherever a probe certifies, every plain computed value beyond it (within the reach)
    has its sign: checked on dense grids around the root at the scale of the rounding band
    and a thousand times wider, and the probe's value is the plain one bit for bit
    (population and empirical halfspaces)."""
    prob = _locator_problem(d, separation, normalization)
    for w in _directions(prob, 3, d):
        loc, S, root, reach, delta = _near_root(prob, w)
        n_certified = 0
        for width in (5.0 * delta, 5e3 * delta):
            ts = root + np.linspace(-width, width, 401)
            values = np.array([S(t) for t in ts])
            for j, t in enumerate(ts):
                v, sc, sp = loc.probe(t)
                assert v == values[j]
                if loc.certifies_probe(t, v, sc, sp, reach):
                    n_certified += 1
                    side = values[: j + 1] if v < 0 else values[j:]
                    assert np.all(np.sign(side) == np.sign(v))
        assert n_certified > 400  # the certificates do decide most points


@pytest.mark.parametrize("d, separation, normalization", LOCATOR_CASES)
def test_virtual_edges_hold_down_to_the_rounding_noise(d, separation, normalization):
    """A probe near the root certifies points it never evaluates (``certifies_virtual``):
    wherever it does, every plain computed value beyond that point, on a dense grid at the
    scale of the rounding band, has the certified sign; and probes inside the band do place
    both edges within a few band widths of the root."""
    prob = _locator_problem(d, separation, normalization)
    for w in _directions(prob, 3, d + 1):
        loc, S, root, reach, delta = _near_root(prob, w)
        ts = root + np.linspace(-8.0 * delta, 8.0 * delta, 321)
        values = np.array([S(t) for t in ts])
        n_both = 0
        for t in root + delta * np.array([-3.0, -1.0, -0.3, 0.0, 0.2, 0.9, 2.5, 40.0]):
            v, sc, sp = loc.probe(t)
            sides = []
            for j in range(0, ts.size, 4):
                for side in (-1, 1):
                    if loc.certifies_virtual(t, v, sc, sp, ts[j], reach, side):
                        beyond = values[: j + 1] if side < 0 else values[j:]
                        assert np.all(np.sign(beyond) == side)
                        sides.append((side, ts[j]))
            left = max((x for s, x in sides if s < 0), default=-math.inf)
            right = min((x for s, x in sides if s > 0), default=math.inf)
            if right - left <= 5.0 * delta:
                n_both += 1
        assert n_both >= 5  # probes within a few band widths place both edges


@pytest.mark.parametrize("kind", ["population", "empirical"])
def test_probe_bounds_contain_the_exact_values(kind):
    """The probe's rounding bounds hold against 50-digit values of ``S = sum_k c_k s_k``,
    ``P + N`` and ``S'`` (population: Gauss-Hermite weights, ``c_k = omega_k a_k``; data:
    sample means, ``c_i = a_i / n``), on both sides of 0 and at large lengths; so do the
    bounds carried over from a probe to a nearby point (``growth0``), with that point's
    plain value, which is the length derivative's bit for bit."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    if kind == "population":
        prob = Halfspace.random(8, 100.0, separation=0.99, seed=1)
        lengths = (-300.0, -2.0, 0.3, 17.0, 55.5, 1000.0)
    else:
        X, y = halfspace_data(5, n=400, d=6)
        prob = Halfspace.from_data(X * np.geomspace(1.0, 30.0, 6), y)
        lengths = (-40.0, -1.5, 0.2, 3.0, 25.0, 700.0)

    def exact_at(t, a0, c):
        sig = [1 / (1 + mpmath.exp(-mpmath.mpf(t) * ak)) for ak in a0]
        return (mpmath.fsum(ck * s for ck, s in zip(c, sig, strict=True)),
                mpmath.fsum(abs(ck) * s for ck, s in zip(c, sig, strict=True)),
                mpmath.fsum(ck * ak * s * (1 - s) for ck, ak, s in zip(c, a0, sig, strict=True)))

    for w in _directions(prob, 2, 7):
        st = prob._state(prob._check_bn(w, 1.0)[0])
        nodes, omega = prob._length_nodes(st)
        a0 = [mpmath.mpf(float(a)) for a in nodes]
        c = ([a * mpmath.mpf(float(o)) for a, o in zip(a0, omega, strict=True)]
             if omega is not None else [a / len(a0) for a in a0])
        loc = prob.length_locator(w)
        assert isinstance(loc, MassRatioLocator)
        for t in lengths:
            v, scale, slope = loc.probe(t)
            assert v == prob.length_derivative(w)(t)
            near = t + 1e-4 / loc.max_abs  # where the probe's P + N and S' are carried
            growth0 = math.exp(abs(near - t) * loc.max_abs)
            for x, value, g0 in ((t, v, 1.0), (near, loc.value(near), growth0)):
                exact, exact_scale, exact_slope = exact_at(x, a0, c)
                err, scale_lo, scale_hi, slope_lo, slope_hi = loc.probe_bounds(
                    x, value, scale, slope, g0)
                assert abs(mpmath.mpf(value) - exact) <= err
                assert scale_lo <= exact_scale <= scale_hi
                assert slope_lo <= exact_slope <= slope_hi


def test_curvature_envelope_bounds_the_exact_second_derivative():
    """The empirical probe's curvature envelope ``C = mean |a|^3 s (1 - s)``, read off the
    last probe: ``curvature_bound`` lies above the 50-digit ``C``, and ``C >= |S''|`` (50
    digits), on both sides of 0 and at large lengths; the probe's value stays the length
    derivative's bit for bit."""
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    X, y = halfspace_data(5, n=400, d=6)
    prob = Halfspace.from_data(X * np.geomspace(1.0, 30.0, 6), y)
    for w in _directions(prob, 2, 7):
        st = prob._state(prob._check_bn(w, 1.0)[0])
        a0 = [mpmath.mpf(float(a)) for a in prob._length_nodes(st)[0]]
        n = len(a0)
        loc = prob.length_locator(w)
        assert loc.curvature_of_last_probe is not None
        for t in (-40.0, -1.5, 0.2, 3.0, 25.0, 700.0):
            v, scale, slope = loc.probe(t)
            curv = loc.curvature_of_last_probe()
            assert v == prob.length_derivative(w)(t)
            sig = [1 / (1 + mpmath.exp(-mpmath.mpf(t) * ak)) for ak in a0]
            pairs = list(zip(a0, sig, strict=True))
            exact_c = mpmath.fsum(abs(ak) ** 3 * s * (1 - s) for ak, s in pairs) / n
            d2 = mpmath.fsum(ak ** 3 * s * (1 - s) * (1 - 2 * s) for ak, s in pairs) / n
            assert abs(d2) <= exact_c
            scale_hi = loc.probe_bounds(t, v, scale, slope)[2]
            assert exact_c <= loc.curvature_bound(t, curv, scale_hi)


def test_curvature_envelope_is_read_only_off_the_last_probe():
    """The envelope comes from the last probe's buffers: read twice it is the same number;
    after another evaluation has rewritten the buffers it is refused, not computed from them;
    a new probe makes it available again, for its own length."""
    X, y = halfspace_data(4, n=300, d=5)
    prob = Halfspace.from_data(X * np.geomspace(1.0, 10.0, 5), y)
    w = next(_directions(prob, 3, 4))
    loc = prob.length_locator(w)
    loc.probe(0.7)
    first = loc.curvature_of_last_probe()
    assert first > 0.0 and loc.curvature_of_last_probe() == first
    loc.value(0.9)
    with pytest.raises(RuntimeError, match="right after a probe"):
        loc.curvature_of_last_probe()
    loc.probe(0.7)
    assert loc.curvature_of_last_probe() == first


@pytest.mark.parametrize("d, normalization", [(8, "batch"), (5, "weight"), (30, "batch")])
def test_virtual_edges_with_curvature_hold_and_reach_farther(d, normalization):
    """With the curvature envelope, a probe certifies unevaluated points by Taylor's bound:
    every certified point's far side has the certified sign (dense plain values), and probes
    farther from the root than the slope-only bound allows still place both edges."""
    prob = _locator_problem(d, None, normalization)
    extra = 0
    for w in _directions(prob, 3, d + 2):
        loc, S, root, reach, delta = _near_root(prob, w)
        for off in (0.0, 1e-7, -3e-6, 1e-5, -1e-4):
            t = root + off * max(abs(root), 1.0)
            # points out to where the slope-only bound (Newton's error ~ D^2 max|a|) reaches
            width = max(8.0 * delta, 3.0 * (t - root) ** 2 * loc.max_abs)
            ts = root + np.linspace(-width, width, 161)
            values = np.array([S(x) for x in ts])
            v, sc, sp = loc.probe(t)
            curv = loc.curvature_of_last_probe()
            for j in range(0, ts.size, 4):
                for side in (-1, 1):
                    plain = loc.certifies_virtual(t, v, sc, sp, ts[j], reach, side)
                    taylor = loc.certifies_virtual(t, v, sc, sp, ts[j], reach, side, curv)
                    assert taylor or not plain  # the better of two bounds
                    if taylor:
                        beyond = values[: j + 1] if side < 0 else values[j:]
                        assert np.all(np.sign(beyond) == side)
                        extra += taylor and not plain
    assert extra > 0  # the envelope certifies points the slope bound alone does not


def test_pairwise_depth_follows_numpys_summation_order():
    """``pairwise_depth`` models ``np.add.reduce``: the same recursion, run in Python floats,
    gives numpy's sums bit for bit (1-D, and each row of a 2-D reduction)."""
    from gdnp.problems.taylor import pairwise_depth

    def pairwise(x):
        m = len(x)
        if m < 8:
            res = 0.0
            for v in x:
                res += v
            return res
        if m <= 128:
            r = list(x[:8])
            i = 8
            while i < m - m % 8:
                for j in range(8):
                    r[j] += x[i + j]
                i += 8
            res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
            for v in x[i:]:
                res += v
            return res
        h = m // 2
        h -= h % 8
        return pairwise(x[:h]) + pairwise(x[h:])

    rng = np.random.default_rng(0)
    for n in [*range(1, 140), 255, 256, 300, 601, 1000, 4097, 8192]:
        x = rng.standard_normal(n) * np.exp(rng.uniform(-20.0, 20.0, n))
        assert pairwise([float(v) for v in x]) == float(np.add.reduce(x))
        assert float(np.add.reduce(np.stack([x, x]), axis=1)[1]) == float(np.add.reduce(x))
    assert [pairwise_depth(n) for n in (1, 7, 8, 127, 128, 601)] == [0, 6, 3, 24, 18, 16]
    with pytest.raises(ValueError, match="n must be"):
        pairwise_depth(0)


def _textbook(fun, a, b, maxiter=50, **_):
    """``gdnp.bisect``'s interface on the textbook loop (expanding like it, if needed)."""
    fa, fb = fun(a), fun(b)
    for _ in range(60):
        if fa < 0.0 < fb:
            break
        if fa == 0.0 or fb == 0.0:  # an end at the root: bisect returns it
            return (a if fa == 0.0 else b), {"nit": 0, "nfev": 0, "ncertified": 0}
        w = 2.0 * (b - a)
        a, b = (a - w, a) if fa > 0.0 else (b, b + w)
        fa, fb = fun(a), fun(b)
    else:
        raise AssertionError(f"no sign change on [{a}, {b}]")
    lo, hi = _reference_bisect(fun, a, b, maxiter)
    return 0.5 * (lo + hi), {"nit": maxiter, "nfev": 0, "ncertified": 0}


@pytest.mark.parametrize("kind", ["population", "population_d100", "population_weight_norm",
                                  "population_c999", "empirical", "empirical_scaled", "ols",
                                  "mlp"])
def test_gdnp_iterates_identical_to_plain_bisection(kind, monkeypatch):
    """GDNP's whole run (history and final iterate) with the default length search equals the
    run whose bisection is the textbook loop evaluating d_g f at every midpoint."""
    if kind == "population":
        prob = Halfspace.random(10, 100.0, separation=0.99, seed=0)
    elif kind == "population_d100":
        prob = Halfspace.random(100, 100.0, separation=0.99, seed=0)
    elif kind == "population_weight_norm":
        prob = Halfspace.random(10, 100.0, separation=0.99, seed=0, normalization="weight")
    elif kind == "population_c999":
        prob = Halfspace.random(10, 1.0, separation=0.999, seed=0)
    elif kind == "empirical":
        X, y = halfspace_data(2, n=2000, d=5)
        prob = Halfspace.from_data(X, y)
    elif kind == "empirical_scaled":  # spread feature scales: the curvature-certified probes
        X, y = halfspace_data(3, n=3000, d=20)
        prob = Halfspace.from_data(X * np.geomspace(1.0, 10.0, 20), y)
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


def test_population_kernels_are_the_textbook_sum_bit_for_bit():
    """The population length derivative skips ``expit`` where it is exactly 1.0; its values
    (and the probe's) are those of the textbook ``np.sum(c * expit(t a))`` over every node,
    for lengths of both signs, far into saturation and in any order (the saturated tail is
    re-split when the length drops)."""
    from scipy.special import expit

    rng = np.random.default_rng(8)
    for prob in (Halfspace.random(10, 100.0, separation=0.99, seed=0),
                 Halfspace.random(6, 1.0, separation=0.999, seed=1),
                 Halfspace.random(8, 10.0, seed=2, normalization="weight")):
        for w in _directions(prob, 3, 9):
            st = prob._state(prob._check_bn(w, 1.0)[0])
            a0, omega = prob._length_nodes(st)
            c = omega * a0
            value, probe = prob._logistic_kernels(st)
            ts = np.concatenate([rng.uniform(-80.0, 400.0, 60), [0.0, 1e-300, 37.0, 1e3],
                                 np.geomspace(500.0, 0.01, 30)])
            saturated = 0
            for t in ts:
                expected = float(np.add.reduce(c * expit(a0 * t)))
                assert value(t) == expected
                assert probe(t)[0] == expected
                saturated += int(np.sum(a0 * t >= 37.0))
            assert saturated > 0  # the saturated path ran


def test_sign_threshold_bisection_equals_plain_bisection():
    """OLS's threshold search: for ``fun(g) = c + 2 g`` (OLS's computed length derivative)
    every bracket, halving count and tolerance gives plain bisection's result and halvings,
    also when a midpoint is the root exactly (then both stop there)."""
    from gdnp.problems.taylor import SignThreshold

    rng = np.random.default_rng(11)
    cs = [0.0, -1.0, 0.3, -2.5] + list(rng.standard_normal(20) * 10.0 ** rng.integers(-8, 8, 20))
    for c in cs:
        def fun(g, c=c):
            return c + 2.0 * g
        root = -0.5 * c
        for a, b in ((root - 1.0, root + 3.0), (root - 0.25, root + 0.75), (-1e3, 1e3),
                     (root - 1e-9, root + 5e-10)):
            if not (fun(a) < 0.0 < fun(b)):
                continue
            for maxiter in (0, 1, 7, 50, 80):
                for xtol in (0.0, 1e-6):
                    plain = bisect(fun, a, b, maxiter=maxiter, xtol=xtol)
                    fast = bisect(fun, a, b, maxiter=maxiter, xtol=xtol,
                                  model=SignThreshold(root, fun))
                    assert fast[0] == plain[0]
                    assert (fast[1]["a"], fast[1]["b"], fast[1]["nit"]) == (
                        plain[1]["a"], plain[1]["b"], plain[1]["nit"])
                    assert fast[1]["nfev"] == 0


_LENGTHS = st.one_of(
    st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False),
    st.floats(-4.0, 4.0), st.sampled_from([0.0, 1.0, -1.0, 2.0, 0.5, -3.0, 5e-324, 2.0 ** 999]))


@settings(max_examples=400, deadline=None)
@given(g=_LENGTHS, levels=st.integers(1, 52), data=st.data())
def test_dyadic_bracket_has_exact_midpoints(g, levels, data):
    """GDNP's default bracket: width a power of two ``W >= max(|g|, 1)``, ``g`` inside, and
    along a random path every computed midpoint of the first 52 halvings is the exact one
    (``lo + hi`` is a float, so ``fl((lo + hi)/2) = (lo + hi)/2``)."""
    from gdnp.bisection import _dyadic_bracket

    a, b = _dyadic_bracket(g)
    w = b - a
    assert a < g < b or (a <= g <= b and abs(g) > 2.0 ** 999)
    assert math.frexp(w)[0] == 0.5 and w >= max(abs(g), 1.0) and a + w == b
    lo, hi = a, b
    for _ in range(levels):
        s = lo + hi
        assert s - lo == hi and s - hi == lo  # the sum is exact (a float)
        m = 0.5 * s
        assert lo < m < hi
        lo, hi = (m, hi) if data.draw(st.booleans()) else (lo, m)


@settings(max_examples=600, deadline=None)
@given(g=_LENGTHS, maxiter=st.integers(0, 60), kind=st.sampled_from(["any", "grid", "near"]),
       data=st.data())
def test_dyadic_closed_form_equals_plain_bisection(g, maxiter, kind, data):
    """On GDNP's default bracket a sign threshold's halvings come in closed form
    (``_dyadic_cell``): the bracket and halving count of the textbook walk evaluating
    ``t - root`` (whose computed sign is that of ``t - root``) at every midpoint, for roots
    anywhere, on a grid point of any level (plain bisection stops there) or one float away."""
    from gdnp.bisection import _dyadic_bracket, _dyadic_cell, _threshold_halvings

    a, b = _dyadic_bracket(g)
    if kind == "any":
        root = a + (b - a) * data.draw(st.floats(0.0, 1.0, exclude_min=True, exclude_max=True))
    else:
        k = data.draw(st.integers(1, 52))
        root = a + data.draw(st.integers(1, 2 ** k - 1)) * ((b - a) * 2.0 ** -k)
        if kind == "near":
            root = math.nextafter(root, data.draw(st.sampled_from([-math.inf, math.inf])))
    if not a < root < b:
        return
    plain = bisect(lambda t: t - root, a, b, maxiter=maxiter)
    lo, hi, nit = _threshold_halvings(root, a, b, maxiter, 0.0)
    assert (lo, hi, nit) == (plain[1]["a"], plain[1]["b"], plain[1]["nit"])
    assert 0.5 * (lo + hi) == plain[0]
    if maxiter <= 52 and abs(g) < 2.0 ** 999:
        assert _dyadic_cell(root, a, b, maxiter) is not None  # the closed form ran


def test_dyadic_closed_form_declines_other_brackets():
    """Brackets whose points are not all floats (width not a power of two, ends off the grid,
    too wide for their position) fall back to the loop, with the same result."""
    from gdnp.bisection import _dyadic_cell, _threshold_halvings

    for a, b in ((0.1, 1.1), (-1.0, 2.0), (1.0 + 2.0 ** -52, 2.0 + 2.0 ** -52), (3.0, 4.0)):
        root = a + 0.3 * (b - a)
        plain = bisect(lambda t, r=root: t - r, a, b, maxiter=50)
        assert _threshold_halvings(root, a, b, 50, 0.0) == (
            plain[1]["a"], plain[1]["b"], plain[1]["nit"])
        if (a, b) != (3.0, 4.0):
            assert _dyadic_cell(root, a, b, 50) is None
    # [3, 4]: width 1, ends multiples of 2^-52, but 4 has ulp 2^-50: not every point is a float
    assert _dyadic_cell(3.3, 3.0, 4.0, 50) is None


def test_inner_midpoints_are_strictly_inside():
    """The tight loops skip the test for a bracket that can no longer be halved during the
    first ``_inner_midpoints(a, b, n)`` halvings: on brackets from a few ulps wide to
    astronomically wide, near zero, subnormal or huge, every midpoint of those halvings (along
    random paths) lies strictly inside its bracket, and the count is not trivially small."""
    from gdnp.bisection import _inner_midpoints

    rng = np.random.default_rng(5)
    centres = [0.0, 1.0, -0.4, 3e-310, 1e-300, 7.5e10, -2.0 ** 60, 1e300]
    checked = 0
    for centre in centres:
        for ulps in (1, 2, 3, 7, 16, 1e3, 2.0 ** 30, 2.0 ** 60):
            lo = centre - ulps * math.ulp(centre) * rng.uniform(0.5, 1.5)
            hi = centre + ulps * math.ulp(centre) * rng.uniform(0.5, 1.5)
            if not (lo < hi and math.isfinite(lo) and math.isfinite(hi)):
                continue
            safe = _inner_midpoints(lo, hi, 200)
            for _ in range(5):
                a, b = lo, hi
                for _ in range(safe):
                    m = 0.5 * (a + b)
                    assert a < m < b
                    checked += 1
                    if rng.random() < 0.5:
                        a = m
                    else:
                        b = m
    assert checked > 1000
    assert _inner_midpoints(-1.0, 1.0, 50) == 50  # a bracket of width 2: every halving
    assert _inner_midpoints(1.0, math.nextafter(1.0, 2.0), 50) == 0


def test_length_prediction_is_exact_on_polynomials():
    """GDNP starts each length search at an extrapolation of the last lengths: the
    polynomial whose degree best predicted the last length from the earlier ones, exact for a
    polynomial of degree k - 2 through k lengths; on a sequence that settles fast (as an
    empirical halfspace's lengths do) the last length beats the polynomials."""
    from gdnp.decoupled import _extrapolate

    for k in range(1, 7):
        for degree in range(max(k - 1, 1)):
            roots = [float((t + 3) ** degree) for t in range(k)]
            assert _extrapolate(roots) == float((k + 3) ** degree)
    settling = [2.0 - 0.5 * 1e-3 ** t for t in range(5)]  # 1.5, 1.9995, ...
    assert abs(_extrapolate(settling) - 2.0) < 1e-12
    assert _extrapolate([3.0]) == 3.0


def test_incremental_length_prediction_equals_the_difference_table():
    """GDNP's predictor, updated one length at a time, gives :func:`_extrapolate` of the last
    ten lengths bit for bit, from the first length on, on smooth, settling and noisy
    sequences, whether it is asked after every length or after several."""
    from gdnp.decoupled import _EXTRAPOLATION_POINTS, _extrapolate, _LengthPredictor

    rng = np.random.default_rng(3)
    sequences = [np.cumsum(rng.standard_normal(40)), 2.0 - 0.5 * 1e-3 ** np.arange(30),
                 1.0 + 1e-3 * np.sin(np.arange(40) / 3.0) + 1e-12 * rng.standard_normal(40),
                 np.full(15, 0.7)]
    for seq in sequences:
        for every in (1, 3, 11):  # a prediction after every length, every 3rd or 11th
            pred = _LengthPredictor()
            assert not pred
            for t, g in enumerate(seq):
                pred.push(float(g))
                if t % every == every - 1:
                    window = [float(v) for v in
                              seq[max(0, t + 1 - _EXTRAPOLATION_POINTS):t + 1]]
                    assert pred.predict() == _extrapolate(window)


@pytest.mark.parametrize("start", [{"g0": 100.0}, {"g0": -100.0}, {"bracket": (100.0, 101.0)},
                                   {"bracket": (-101.0, -100.0)}, {"bracket": (10.0, 1000.0)}])
def test_located_search_after_an_expansion_equals_plain_bisection(start):
    """A bracket that must move before it holds the root: the expansion's plain evaluations
    rewrite the buffers of the probe made before it, whose curvature must then not be read
    (it raised a RuntimeError); the iterates stay plain bisection's, bit for bit."""
    prob = Halfspace.sample(4, 100, 300, seed=2)
    kw = dict(start, w0=np.ones(4)) if "g0" in start else dict(start)
    located = gdnp.solve(prob, "gdnp", maxiter=30, **kw)
    plain = gdnp.solve(prob, "gdnp", maxiter=30, certify=False, **kw)
    assert located.status == plain.status == 1
    np.testing.assert_array_equal(located.history["fun"], plain.history["fun"])
    np.testing.assert_array_equal(located.x, plain.x)


@pytest.mark.parametrize("root", [3e19, -7.5e25, 1e300, 0.3, -2.0])
def test_threshold_expansion_is_bisects_without_its_budget(root):
    """The comparisons-only expansion lands on the bracket bisect's own expansion reaches
    (given the budget), for roots far beyond 64 doublings too."""
    from gdnp.bisection import _threshold_expansion

    a, b, k = _threshold_expansion(root, -0.5, 0.5)
    _, info = bisect(lambda t: t - root, -0.5, 0.5, maxiter=0, max_expand=5000)
    assert (a, b, k) == (info["a0"], info["b0"], info["expansions"])


def test_gdnp_on_ols_with_a_length_beyond_64_doublings():
    """OLS always has a finite optimal length; one above 2^65 (y scaled by 1e20) had been
    reported as 'the root is not finite' (status 2)."""
    prob = OLS.from_moments(np.diag([1.0, 2.0]), np.array([-1e20, -1e20]), yy=2e40)
    res = gdnp.solve(prob, "gdnp", maxiter=50)
    closed = gdnp.solve(prob, "gdnp", maxiter=50, length="closed_form")
    assert res.status != 2 and closed.status != 2
    np.testing.assert_allclose(res.x, closed.x, rtol=1e-12)


@pytest.mark.parametrize("n", [5, 8192, 8193, 30_000, 65_537])
def test_bound_dot_is_within_the_summation_bound(n):
    """The certificates' dot product (serial ``ddot`` over chunks) is within ``(n - 1) u
    sum|x y|`` of the exact value (math.fsum of the exact products' floats, plus their own
    rounding ``u sum|x y|``)."""
    from gdnp.problems.halfspace import _bound_dot

    rng = np.random.default_rng(n)
    x = rng.standard_normal(n) * np.exp(rng.uniform(-5, 5, n))
    y = rng.standard_normal(n)
    exact = math.fsum((x * y).tolist())
    bound = n * np.finfo(float).eps / 2 * float(np.abs(x * y).sum()) * 1.01
    got = _bound_dot(x, y)
    assert abs(got - exact) <= bound
    # and the chunks cover every element: a change in the last one moves the result
    y2 = y.copy()
    y2[-1] += 1.0
    assert _bound_dot(x, y2) - got == pytest.approx(x[-1], rel=1e-6, abs=1e-6 * abs(got))
