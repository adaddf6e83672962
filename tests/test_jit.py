"""The compiled length search (numba, optional): the NumPy kernel's numbers bit for bit, plain
bisection's halvings on the Gaussian nodes and on data, the Python search where it cannot
finish, and a switch to turn it off."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

import gdnp
from gdnp import _jit, bisect
from gdnp.problems import GaussianHalfspace, Halfspace

pytestmark = pytest.mark.skipif(not _jit.available(),
                                reason="numba is not installed (the 'fast' extra)")


@pytest.fixture(autouse=True, scope="module")
def _loaded():
    """The compiled search loaded in this process (a short run would otherwise keep the
    Python search until loading pays off, gdnp._jit.LOAD_AFTER_SECONDS)."""
    assert _jit.ready()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3000), st.integers(0, 2**32 - 1), st.floats(-8.0, 8.0))
def test_pairwise_sum_is_numpys(n, seed, log_scale):
    """The compiled pairwise sum is np.add.reduce's, operation for operation."""
    from gdnp._jit_kernels import pairwise

    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n) * np.exp(log_scale * rng.standard_normal(n))
    assert pairwise(x) == np.add.reduce(x)
    for zeros in (np.full(n, -0.0), np.where(x < 0, -0.0, 0.0)):  # signed zeros too
        assert np.signbit(pairwise(zeros)) == np.signbit(np.add.reduce(zeros))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40_000), st.integers(0, 2**32 - 1))
def test_sum_and_spread_are_numpys(n, seed):
    """c1's two sums of sigma (GDNP's step on data) in one compiled pass: NumPy's pairwise
    sums of sigma and of (1 - sigma) sigma, operation for operation; off when switched off."""
    rng = np.random.default_rng(seed)
    sigma = expit(rng.standard_normal(n) * np.exp(3.0 * rng.standard_normal(n)))
    got = _jit.sum_and_spread(sigma)
    assert got == (np.add.reduce(sigma), np.add.reduce(np.multiply(1.0 - sigma, sigma)))
    with _jit.switched_off():
        assert _jit.sum_and_spread(sigma) is None


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([1, 7, 128, 129, 1000, 8193, 30_000, 100_003]),
       st.integers(0, 2**32 - 1), st.floats(-800.0, 800.0), st.floats(-3.0, 3.0),
       st.sampled_from([1.0, 0.37, 3.0, 1e-200, 1e200]))
def test_data_value_is_the_python_searchs(n, seed, t, log_scale, norm):
    """On data the compiled code finishes the plain value from NumPy's exp with the Python
    search's operations (a = zw / N, e + 1, a / (e + 1), NumPy's pairwise sum): the same
    number, overflow and signed zeros included; the probe's sums agree with NumPy's to their
    rounding."""
    from gdnp._jit_kernels import data_value

    rng = np.random.default_rng(seed)
    zw = rng.standard_normal(n) * np.exp(log_scale * rng.standard_normal(n)) * norm
    with np.errstate(over="ignore", under="ignore"):
        a0 = zw / norm
        e = np.exp(np.multiply(a0, -t))
        buf, acc = e.copy(), np.zeros(4)
        got = data_value(zw, norm, buf, np.empty((3, 192), np.int64), np.empty(96), 2, acc,
                         np.empty((3, 128)))
        want_buf = e + 1.0
        want_terms = np.divide(a0, want_buf)
    want = np.add.reduce(want_terms)
    assert got == want and np.signbit(got) == np.signbit(want)
    np.testing.assert_array_equal(buf, e)  # (nothing is written back)
    s = 1.0 / want_buf
    exact = (want_terms @ a0, want_terms @ want_terms, np.abs(want_terms).sum(),
             (a0 * np.abs(a0)) @ (want_terms * (1.0 - s)))
    bound = (np.abs(want_terms * a0).sum(), (want_terms ** 2).sum(), exact[2],
             np.abs((a0 * np.abs(a0)) * (want_terms * (1.0 - s))).sum())
    for k in range(4):  # any summation order is within n u of the sum of magnitudes
        assert abs(acc[k] - exact[k]) <= 4 * n * 2.0**-53 * bound[k] + 1e-300


@pytest.mark.parametrize("d, separation", [(3, 0.5), (10, 0.99), (100, 0.99)])
def test_compiled_value_is_the_numpy_kernels(d, separation):
    """The compiled plain value equals the NumPy kernel's at every length, saturated nodes
    (t a_k >= 37) and tails included."""
    prob = Halfspace.random(d, 100.0, separation=separation, seed=d)
    rng = np.random.default_rng(d)
    for _ in range(3):
        st_ = prob._state(rng.standard_normal(d))
        numpy_value = prob._length_function(st_)
        compiled = _jit.plain_value(*prob._length_rule(), *prob._ab(st_))
        for t in np.concatenate([rng.uniform(-300.0, 300.0, 200), [0.0, 1e-300, 1e6]]):
            got, want = compiled(t), numpy_value(t)
            assert got == want and np.signbit(got) == np.signbit(want)
    # every node negative: the terms underflow to -0.0 at large lengths, their sum is +0.0
    prob = Halfspace.random(2, 10.0, separation=0.9999, seed=0)
    st_ = prob._state(-np.linalg.solve(prob.S, prob.u))
    numpy_value = prob._length_function(st_)
    compiled = _jit.plain_value(*prob._length_rule(), *prob._ab(st_))
    for t in (1e3, 1e4, 1e6):
        got, want = compiled(t), numpy_value(t)
        assert got == want and np.signbit(got) == np.signbit(want)


def _compiled_search(prob, w):
    return prob._compiled_length_search(prob._state(np.asarray(w, dtype=float)))


def _searches_match_plain_bisection(prob, rng, directions: int, cases) -> int:
    """Compiled searches on random directions, about the root and about a shifted centre,
    for each ``(T_s, xtol)`` of ``cases`` and four starts, against plain bisection: the same
    final bracket and halvings wherever the compiled search finishes (``None`` hands over to
    the Python search). Returns how many finished."""
    finished = 0
    for _ in range(directions):
        w = rng.standard_normal(prob.dim)
        S = prob.length_derivative(w)
        search = _compiled_search(prob, w)
        root = bisect(S, -1.0, 1.0, maxiter=60, decreasing="expand")[0]
        for center in (root, root * 1.3 + 0.7):
            half = 0.5 * max(abs(center), 1.0)
            a, b = center - half, center + half
            for T_s, xtol in cases:
                for start in (np.nan, root * (1 + 1e-6), center, root * 1.5):
                    found = search(a, b, T_s, xtol, start)
                    plain = bisect(S, a, b, maxiter=T_s, xtol=xtol)
                    if found is None:  # the Python search takes over (e.g. no sign change)
                        continue
                    finished += 1
                    assert found[0] == plain[0]
                    assert (found[1]["a"], found[1]["b"], found[1]["nit"]) == (
                        plain[1]["a"], plain[1]["b"], plain[1]["nit"])
                    assert found[1]["nfev"] <= plain[1]["nfev"] + 4
    return finished


@pytest.mark.parametrize("d, separation", [(4, 0.5), (10, 0.9), (30, 0.99), (100, 0.99)])
def test_compiled_search_equals_plain_bisection(d, separation):
    """Every bracket, start and T_s: the final bracket and the halvings of plain bisection."""
    prob = Halfspace.random(d, 100.0, separation=separation, seed=d)
    cases = [(T_s, 0.0) for T_s in (1, 7, 30, 50, 60)]
    assert _searches_match_plain_bisection(prob, np.random.default_rng(d), 6, cases) > 100


def test_compiled_search_with_xtol_and_user_brackets():
    prob = Halfspace.random(8, 30.0, separation=0.95, seed=1)
    w = np.random.default_rng(1).standard_normal(8)
    S = prob.length_derivative(w)
    search = _compiled_search(prob, w)
    root = bisect(S, -1.0, 1.0, maxiter=60)[0]
    finished = []
    for a, b in ((root - 0.3, root + 7.1), (root - 1e-9, root + 3e-9), (-1e3, 1e4)):
        for xtol in (0.0, 1e-12, 1e-6, 0.5):
            found = search(a, b, 50, xtol, np.nan)
            plain = bisect(S, a, b, maxiter=50, xtol=xtol)
            if found is not None:
                finished.append((a, xtol))
                assert found[0] == plain[0] and found[1]["nit"] == plain[1]["nit"]
    # handed to Python: a bracket no wider than xtol (no halving), and the bracket 10^4 wide,
    # whose reach no probe near the root certifies (the Python located search evaluates
    # every midpoint there too)
    assert len(finished) == 6 and all(a > 0 for a, _ in finished)


def test_compiled_search_hands_over_where_it_cannot_finish():
    """No sign change on the bracket (the root lies outside): ``None``, and GDNP's expansion
    runs in Python."""
    prob = Halfspace.random(5, 10.0, separation=0.9, seed=0)
    w = np.ones(5)
    root = bisect(prob.length_derivative(w), -1.0, 1.0, maxiter=60)[0]
    search = _compiled_search(prob, w)
    assert search(root + 1.0, root + 2.0, 50, 0.0, np.nan) is None
    assert search(root - 2.0, root - 1.0, 50, 0.0, np.nan) is None


@pytest.mark.parametrize("kw", [
    {"d": 10, "kappa": 100.0, "separation": 0.99},
    {"d": 3, "kappa": 10.0, "separation": 0.3},
    {"d": 50, "kappa": 1000.0, "separation": 0.9}])
def test_gdnp_compiled_equals_python_and_plain(kw, monkeypatch):
    """GDNP's whole history is the same with the compiled search, the Python located search
    and plain bisection (certify=False)."""
    prob = Halfspace.random(kw["d"], kw["kappa"], separation=kw["separation"], seed=4)
    compiled = gdnp.solve(prob, "gdnp", maxiter=60, reference=False)
    plain = gdnp.solve(prob, "gdnp", maxiter=60, reference=False, certify=False)
    monkeypatch.setattr(_jit, "_NUMBA", False)
    python = gdnp.solve(prob, "gdnp", maxiter=60, reference=False)
    for other in (plain, python):
        np.testing.assert_array_equal(compiled.x, other.x)
        for key in ("fun", "grad_norm2", "dg2", "step"):
            np.testing.assert_array_equal(compiled.history[key], other.history[key])
    # the evaluation counts agree here; in general they can differ by a few (the probes'
    # P + N and S' are summed in another order than NumPy's dot products, which can move a
    # probe by an ulp and tip a borderline certificate), never the halvings
    assert compiled.nfev == python.nfev < 0.3 * plain.nfev
    # the result says which search ran
    assert compiled.n_compiled > 0.9 * compiled.nit and python.n_compiled == 0 == plain.n_compiled


def test_gdnp_near_separability_and_many_nodes():
    """Separation 0.999 on 4808 nodes (the separation figure's rule): the same iterates."""
    prob = GaussianHalfspace(np.diag(np.geomspace(1.0, 10.0, 4)), np.array([0.999, 0, 0, 0]),
                             n_nodes=4808)
    compiled = gdnp.solve(prob, "gdnp", maxiter=30, reference=False)
    plain = gdnp.solve(prob, "gdnp", maxiter=30, reference=False, certify=False)
    np.testing.assert_array_equal(compiled.history["fun"], plain.history["fun"])
    np.testing.assert_array_equal(compiled.x, plain.x)


def test_not_used_where_it_does_not_apply():
    """Other losses and other normalizations keep the Python search."""
    w = np.ones(4)
    assert Halfspace.random(4, 10.0, loss="sigmoid", seed=0)._compiled_length_search(
        Halfspace.random(4, 10.0, loss="sigmoid", seed=0)._state(w)) is None
    prob = Halfspace.random(4, 10.0, normalization="weight", seed=0)
    assert prob._compiled_length_search(prob._state(w)) is None
    data = Halfspace.sample(4, 10.0, 200, loss="sigmoid", seed=0)
    assert data._compiled_length_search(data._state(w)) is None
    data = Halfspace.sample(4, 10.0, 200, seed=0)  # the logistic loss on data: compiled
    assert data._compiled_length_search(data._state(w)) is not None


@pytest.mark.parametrize("env, expected, warns", [
    ({"GDNP_NUMBA": "0"}, "False", False), ({"GDNP_NUMBA": "off"}, "False", False),
    ({"GDNP_NUMBA": "auto"}, "True", False), ({"GDNP_NUMBA": "1"}, "True", False),
    ({"GDNP_NUMBA": "fast please"}, "True", True),
    ({"NUMBA_DISABLE_JIT": "1"}, "False", False),
    ({"NUMBA_DISABLE_JIT": "1", "GDNP_NUMBA": "1"}, "False", True)])
def test_environment_switches(env, expected, warns):
    """GDNP_NUMBA=0 turns it off, an unknown value warns and means auto, and numba's
    interpreter mode (NUMBA_DISABLE_JIT, far slower than the Python search) keeps it off."""
    code = "from gdnp import _jit; print(_jit.available())"
    full = {k: v for k, v in os.environ.items() if k not in ("GDNP_NUMBA", "NUMBA_DISABLE_JIT")}
    out = subprocess.run([sys.executable, "-c", code], env={**full, **env},
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == expected
    assert ("is not one of" in out.stderr or "asks for the compiled" in out.stderr) is warns


def test_a_kernel_that_fails_to_compile_falls_back_with_a_warning(monkeypatch):
    """An optional accelerator that cannot compile (no writable cache, an LLVM error) warns
    once and leaves GDNP on the Python search, with the same iterates."""
    import builtins

    real_import = builtins.__import__

    def failing(name, *args, **kwargs):
        if name == "gdnp._jit_kernels":
            raise RuntimeError("cannot cache function 'search': no locator available")
        return real_import(name, *args, **kwargs)

    prob = Halfspace.random(5, 10.0, separation=0.9, seed=2)
    expected = gdnp.solve(prob, "gdnp", maxiter=20, reference=False, certify=False)
    monkeypatch.setattr(_jit, "_KERNEL", None)
    monkeypatch.setattr(_jit, "_NUMBA", _jit._NUMBA)
    monkeypatch.setattr(_jit, "_EAGER", True)  # load at the first search
    monkeypatch.setattr(builtins, "__import__", failing)
    with pytest.warns(RuntimeWarning, match="compiled length search is unavailable") as rec:
        res = gdnp.solve(prob, "gdnp", maxiter=20, reference=False)
    assert rec[0].filename == __file__  # the user's line, not gdnp's
    assert "NUMBA_CACHE_DIR" in str(rec[0].message)
    assert not _jit.available() and not _jit.ready()
    np.testing.assert_array_equal(res.history["fun"], expected.history["fun"])
    np.testing.assert_array_equal(res.x, expected.x)


@pytest.mark.parametrize("T_s", [2**31 + 10, 2**40, 2**63, 2**70])
def test_huge_T_s_is_the_python_searchs(T_s, monkeypatch):
    """T_s beyond what a float64 bracket can be halved: the same run as the Python search
    (it had overflowed the kernel's integers and been reported as diverged, and numba's
    ldexp truncates its exponent to 32 bits)."""
    prob = Halfspace.random(6, 50.0, separation=0.95, seed=3)
    compiled = gdnp.solve(prob, "gdnp", maxiter=10, T_s=T_s, reference=False)
    monkeypatch.setattr(_jit, "_NUMBA", False)
    python = gdnp.solve(prob, "gdnp", maxiter=10, T_s=T_s, reference=False)
    assert compiled.status == python.status != 2
    np.testing.assert_array_equal(compiled.x, python.x)
    np.testing.assert_array_equal(compiled.history["fun"], python.history["fun"])
    assert compiled.nfev == python.nfev


def test_a_process_loads_it_only_once_it_pays_off():
    """A short run never imports numba (loading costs about LOAD_AFTER_SECONDS); once the
    Python searches have taken that long, the next search loads it; GDNP_NUMBA=1 loads it at
    the first search. The iterates are the same throughout."""
    code = """
import sys
import numpy as np
import gdnp
from gdnp import _jit
from gdnp.problems import Halfspace
prob = Halfspace.random(6, 50.0, separation=0.95, seed=3)
first = gdnp.solve(prob, "gdnp", maxiter=30, reference=False)
print("numba" in sys.modules, _jit.loaded())
_jit.charge(_jit.LOAD_AFTER_SECONDS)
second = gdnp.solve(prob, "gdnp", maxiter=30, reference=False)
print("numba" in sys.modules, _jit.loaded())
print(np.array_equal(first.history["fun"], second.history["fun"]))
"""
    env = {k: v for k, v in os.environ.items() if k != "GDNP_NUMBA"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    assert out[:3] == ["False False", "True True", "True"]
    env["GDNP_NUMBA"] = "1"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    assert out[:3] == ["True True", "True True", "True"]


def test_a_cold_cache_waits_for_a_run_long_enough_to_pay_for_compiling(tmp_path):
    """Where numba's cache does not hold the compiled search (a new installation), loading
    compiles it (about 9 s, not 0.3): after LOAD_AFTER_SECONDS of Python searches the process
    keeps the Python search, and loads only after LOAD_AFTER_SECONDS_COLD. (The load itself
    is replaced by a recorder here, so that the test compiles nothing.)"""
    code = """
import gdnp
from gdnp import _jit
from gdnp.problems import Halfspace
prob = Halfspace.random(6, 50.0, separation=0.95, seed=3)
calls = []
_jit._kernel = lambda: calls.append(1)  # a failed load: the Python search runs
_jit.charge(_jit.LOAD_AFTER_SECONDS)
gdnp.solve(prob, "gdnp", maxiter=5, reference=False)
print(_jit.cache_is_warm(), len(calls))
_jit.charge(_jit.LOAD_AFTER_SECONDS_COLD)
gdnp.solve(prob, "gdnp", maxiter=5, reference=False)
print(len(calls) > 0)
"""
    env = {k: v for k, v in os.environ.items() if k != "GDNP_NUMBA"}
    env["NUMBA_CACHE_DIR"] = str(tmp_path)  # an empty cache
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True).stdout.split("\n")
    assert out[:2] == ["False 0", "True"]


def test_the_cache_of_this_installation_is_warm():
    """The test environment compiled the search at set-up (or an earlier test did): the
    check reads numba's index as warm, so a process loads it after LOAD_AFTER_SECONDS."""
    assert _jit.ready()
    assert _jit.cache_is_warm() is True


@pytest.mark.parametrize("name, match", [("value", "NumPy's"), ("data_value", "on data")])
def test_a_kernel_whose_values_differ_from_numpys_is_not_used(name, match, monkeypatch):
    """The load-time self-checks, on the Gaussian nodes and on data: a compiled value that is
    not the NumPy kernel's (as a platform's vectorised exp would give, or a sum in another
    order) makes the process keep the Python search."""
    import gdnp._jit_kernels as kernels

    real = getattr(kernels, name)
    monkeypatch.setattr(kernels, name, lambda *args: real(*args) * (1 + 2**-50))
    monkeypatch.setattr(_jit, "_KERNEL", None)
    monkeypatch.setattr(_jit, "_NUMBA", _jit._NUMBA)
    with pytest.warns(RuntimeWarning, match=match):
        assert not _jit.ready()
    assert not _jit.available()


def _data_problems():
    """Logistic halfspaces from data: sizes on both sides of NumPy's 8192-element reduction
    blocks, feature scales spread 1x to 100x, noisy and nearly separable labels."""
    out = []
    for n, d, spread, sharpness, seed in ((50, 3, 1.0, 1.0, 0), (3000, 8, 10.0, 3.0, 1),
                                          (20_000, 20, 100.0, 10.0, 2),
                                          (9000, 5, 1.0, 300.0, 3)):
        rng = np.random.default_rng(seed)
        scales = np.geomspace(1.0, spread, d)
        X = rng.standard_normal((n, d)) * scales
        logits = sharpness * (X / scales) @ rng.standard_normal(d) / np.sqrt(d)
        y = np.where(rng.random(n) < expit(logits), 1.0, -1.0)
        out.append(Halfspace.from_data(X, y))
    return out


@pytest.mark.parametrize("index", range(4))
def test_compiled_data_search_equals_plain_bisection(index):
    """On data (each exp(-t a) in NumPy, the rest compiled): every bracket, start, T_s and
    xtol gives plain bisection's final bracket and halvings."""
    cases = [(1, 0.0), (7, 0.0), (30, 0.0), (50, 0.0), (60, 0.0), (50, 1e-9)]
    finished = _searches_match_plain_bisection(_data_problems()[index],
                                               np.random.default_rng(index), 4, cases)
    # (half the brackets, those about the shifted centre, hold no root: the Python search)
    assert finished > 80


@pytest.mark.parametrize("kw", [{}, {"normalization": "weight"}, {"bn_eps": 0.1},
                                {"ridge": 0.5}])
def test_gdnp_on_data_compiled_equals_python_and_plain(kw, monkeypatch):
    """GDNP's whole history on data is the same with the compiled search, the Python located
    search and plain bisection (certify=False), for every normalization."""
    for prob in _data_problems()[1:]:
        if kw:
            prob = Halfspace.from_data(prob.X, prob.y, **kw)
        compiled = gdnp.solve(prob, "gdnp", maxiter=25, reference=False)
        plain = gdnp.solve(prob, "gdnp", maxiter=25, reference=False, certify=False)
        with _jit.switched_off():
            python = gdnp.solve(prob, "gdnp", maxiter=25, reference=False)
        for other in (plain, python):
            np.testing.assert_array_equal(compiled.x, other.x)
            for key in ("fun", "grad_norm2", "dg2", "step"):
                np.testing.assert_array_equal(compiled.history[key], other.history[key])
        assert compiled.n_compiled > 0.8 * compiled.nit and python.n_compiled == 0
        assert compiled.nfev < 0.3 * plain.nfev


def test_gdnp_on_separable_data_compiled_equals_plain():
    """Separable data: the length grows without bound and terms underflow (a sum that is
    exactly 0 hands the search to Python, whose value then falls back to expit's tails);
    the histories are still plain bisection's."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((400, 3))
    y = np.where(X @ np.array([1.0, -2.0, 0.5]) > 0.0, 1.0, -1.0)
    prob = Halfspace.from_data(X, y)
    near = Halfspace.from_data(X + 0.3 * rng.standard_normal(X.shape), y)  # nearly separable
    assert prob.is_separable() and not near.is_separable()
    for p in (prob, near):
        compiled = gdnp.solve(p, "gdnp", maxiter=40, reference=False)
        plain = gdnp.solve(p, "gdnp", maxiter=40, reference=False, certify=False)
        assert compiled.status == plain.status
        for key in ("fun", "grad_norm2", "dg2", "step"):
            np.testing.assert_array_equal(compiled.history[key], plain.history[key])
        np.testing.assert_array_equal(compiled.x, plain.x)
    assert compiled.status == 0 and compiled.n_compiled > 0  # (the separable run diverges)
    w = np.array([1.0, -2.0, 0.5])  # every margin z_i'w < 0: the terms underflow far out
    assert _compiled_search(prob, w)(1e4, 2e4, 30, 0.0, np.nan) is None


def test_data_search_in_threads_is_the_same():
    """Two threads running GDNP on data at once (the compiled search calls NumPy for its
    exponentials, and keeps its work arrays per thread) get the iterates of the runs one
    after the other."""
    from concurrent.futures import ThreadPoolExecutor

    probs = _data_problems()[1:3]
    alone = [gdnp.solve(p, "gdnp", maxiter=30, reference=False) for p in probs]
    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(
            lambda p: gdnp.solve(p, "gdnp", maxiter=30, reference=False), probs * 2))
    for res, ref in zip(together, alone * 2, strict=True):
        np.testing.assert_array_equal(res.history["fun"], ref.history["fun"])
        assert res.n_compiled > 0


def test_switched_off_is_per_thread():
    """``switched_off`` turns the compiled search off in its own thread only, and overlapping
    blocks in two threads leave it on afterwards."""
    import threading

    inside, release = threading.Event(), threading.Event()
    seen = {}

    def other():
        with _jit.switched_off():
            seen["other"] = _jit.available()
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    thread.start()
    inside.wait(5)
    seen["main while other is off"] = _jit.available()
    with _jit.switched_off():
        release.set()
        thread.join()
        seen["main inside"] = _jit.available()
    assert seen == {"other": False, "main while other is off": True, "main inside": False}
    assert _jit.available() and _jit.ready()


def test_data_search_checks_its_buffer():
    """Compiled code checks no bounds: a buffer of another size is refused, not used."""
    zw = np.linspace(-1.0, 2.0, 300)
    consts = (40.0, 2.0, 2.0, 301, 3.01e-298, 0.0, 0.0)
    with pytest.raises(ValueError, match="buf"):
        _jit.data_logistic_search(zw, 1.0, np.empty(3), -4.0, 4.0, 30, 0.0, np.nan, consts)
    with pytest.raises(ValueError, match="zw"):
        _jit.data_logistic_search(zw[::2], 1.0, np.empty(150), -4.0, 4.0, 30, 0.0, np.nan,
                                  consts)
    for norm in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="norm"):
            _jit.data_logistic_search(zw, norm, np.empty(300), -4.0, 4.0, 30, 0.0, np.nan,
                                      consts)
    assert _jit.data_logistic_search(zw, 1.0, np.empty(300), -4.0, 4.0, 30, 0.0, np.nan,
                                     consts) is not None


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40_000), st.integers(0, 2**32 - 1), st.floats(1e-300, 1e300),
       st.sampled_from([None, np.nan, np.inf, -np.inf, -0.0, 0.0]))
def test_scaled_margins_are_numpys(n, seed, norm, special):
    """A new direction's margins a = z'w / N (not stored), their largest magnitude and the
    first probe's -t a in one compiled pass: NumPy's numbers, NaN where a margin is NaN."""
    rng = np.random.default_rng(seed)
    zw = rng.standard_normal(n) * np.exp(5.0 * rng.standard_normal(n))
    if special is not None:
        zw[rng.integers(n)] = special
    buf = np.empty(n)
    with np.errstate(all="ignore"):
        top = _jit.scaled_margins(zw, norm, 0.7, buf)
        want = zw / norm
        np.testing.assert_array_equal(buf, want * -0.7)
        expect = max(float(np.maximum.reduce(want)), -float(np.minimum.reduce(want)))
    assert top == expect or (np.isnan(top) and np.isnan(expect))
