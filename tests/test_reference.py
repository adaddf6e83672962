"""The empirical halfspace's reference solution decides from certificates (a finite point with
a tiny gradient and a positive-definite Hessian; a separating direction) before any LP."""

from __future__ import annotations

import numpy as np
import pytest

from gdnp.problems import OLS, Halfspace, NoFiniteMinimizerError


def _data(n, d, flip, seed=0, gap=0.2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1.0, 10.0, d)
    X -= X.mean(axis=0)
    w = rng.standard_normal(d)
    m = X @ w / np.linalg.norm(w)
    keep = np.abs(m) > gap  # a margin, so that centring again cannot unseparate the data
    X, m = X[keep], m[keep]
    y = np.sign(m)
    y[rng.random(y.size) < flip] *= -1.0
    return X, y


def _no_lp(monkeypatch):
    def fail(self, progress=False):
        raise AssertionError("the LP ran although a certificate should have decided")
    monkeypatch.setattr("gdnp.problems.halfspace.EmpiricalHalfspace._lp_separable", fail)


def test_nearly_separable_data_certified_finite_without_lp(monkeypatch):
    X, y = _data(60_000, 5, 0.002)
    prob = Halfspace.from_data(X, y)
    assert prob._n * prob.dim > 200_000  # the large-data branch
    _no_lp(monkeypatch)
    x, verdict = prob._certified_newton()
    assert verdict == "finite"
    x_star, f_star = prob.solution()
    G = prob.grad(x_star)
    H = prob._hessian(x_star)
    mu = np.linalg.eigvalsh(H)[0]
    zmax = np.sqrt(np.max(np.einsum("ij,ij->i", prob.X, prob.X)))
    assert np.linalg.norm(G) < mu / (2 * np.e * zmax)  # the certificate itself
    assert f_star < 0.1 * np.log(2.0)  # nearly separable: far below f(0) = log 2
    # an independent check of optimality: no coordinate direction lowers f
    for i in range(prob.dim):
        e = np.zeros(prob.dim)
        e[i] = 1e-4 * max(1.0, abs(x_star[i]))
        assert prob.f(x_star + e) >= f_star - 1e-15 and prob.f(x_star - e) >= f_star - 1e-15


def test_certificate_where_f_no_longer_resolves_newtons_decrease(monkeypatch):
    """10 flipped labels next to the boundary (n = 1e5, d = 100): the finite minimiser needs
    |g| < mu / (8 e Z) ~ 3e-12, far below where f resolves a Newton decrease; Newton goes on
    by the gradient (it had stopped at |g| = 1.5e-10 and the LP took 66-115 s)."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((100_000, 100))
    m = X @ rng.standard_normal(100)
    y = np.where(m > 0, 1.0, -1.0)
    y[np.argsort(np.abs(m))[:10]] *= -1.0
    prob = Halfspace.from_data(X, y)
    _no_lp(monkeypatch)
    x, verdict = prob._certified_newton()
    assert verdict == "finite" and np.linalg.norm(prob.grad(x)) < 1e-13


def test_ill_conditioned_data_certified_in_the_hessians_coordinates(monkeypatch):
    """kappa(S) = 1e10, nowhere near separable: the plain test asks for |g| < mu / (8 e Z)
    ~ 1e-15, below the gradient's rounding, and never holds; the same test in the coordinates
    of the Hessian's Cholesky factor decides (at kappa(S) = 1e8, d = 300, n = 3e4 the LP had run
    for 9 minutes and ended "Unknown")."""
    prob = Halfspace.sample(50, 1e10, 5000, seed=0)
    assert prob._n * prob.dim > 200_000  # the large-data branch (no LP first)
    real = type(prob)._preconditioned_certificate
    monkeypatch.setattr(type(prob), "_preconditioned_certificate", lambda self, *a: False)
    hessians = []
    real_hessian = type(prob)._hessian
    monkeypatch.setattr(type(prob), "_hessian",
                        lambda self, x, *a: hessians.append(1) or real_hessian(self, x, *a))
    assert prob._certified_newton()[1] is None  # the plain test alone does not decide
    # and Newton stops once f and the gradient are both at their rounding (it had run all 60
    # steps, 15 minutes at n = 3e4, d = 1000)
    assert len(hessians) < 30
    monkeypatch.setattr(type(prob), "_preconditioned_certificate", real)
    _no_lp(monkeypatch)
    x, verdict = prob._certified_newton()
    assert verdict == "finite"
    # the certificate's own inequality, recomputed here: ||L^-1 g|| < mu_P / (8 e Z_P)
    L = np.linalg.cholesky(prob._hessian(x))
    Li = np.linalg.inv(L)
    dec = np.linalg.norm(Li @ prob.grad(x))
    z_p = np.sqrt(np.max(np.sum((prob.X @ Li.T) ** 2, axis=1)))
    mu_p = np.linalg.eigvalsh(Li @ prob._hessian(x) @ Li.T)[0]
    assert dec < 1e-6 * mu_p / (8 * np.e * z_p)  # by orders of magnitude
    x_star, f_star = prob.solution()
    assert 0.01 < f_star < 0.5 * np.log(2.0)


def test_preconditioned_certificate_never_certifies_separable_data(monkeypatch):
    """On separable data no finite minimiser exists: along the iterates the test in the
    Hessian's coordinates must fail until the separating direction is found."""
    X, y = _data(60_000, 5, 0.0, gap=0.0)  # no gap: Newton runs a while before separating
    prob = Halfspace.from_data(X, y)
    calls = []
    real = type(prob)._preconditioned_certificate

    def spy(self, *args):
        calls.append(bool(real(self, *args)))
        return calls[-1]

    monkeypatch.setattr(type(prob), "_preconditioned_certificate", spy)
    _no_lp(monkeypatch)
    assert prob._certified_newton()[1] == "separable"
    assert len(calls) >= 3 and not any(calls)


def test_ridge_on_collinear_columns_certifies_on_the_data_range(monkeypatch):
    """ridge= (the remedy the singular-S error names) keeps a duplicated column: f is flat along
    the null direction and the Hessian singular; the certificate works on the data's range and
    agrees with null_space='drop' (the LP had run: 82 s at n = 1e4)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20_000, 20))
    y = np.where(X @ rng.standard_normal(20) + 3.0 * rng.standard_normal(20_000) > 0, 1.0, -1.0)
    X = np.column_stack([X, X[:, 3]])
    ridged = Halfspace.from_data(X, y, ridge=1e-3)
    _no_lp(monkeypatch)
    f_ridge = ridged.solution()[1]
    f_drop = Halfspace.from_data(X, y, null_space="drop").solution()[1]
    assert f_ridge == pytest.approx(f_drop, rel=1e-12)


@pytest.mark.parametrize("loss, ridge", [("logistic", 0.0), ("logistic", 0.05),
                                         ("squared", 0.0)])
def test_reference_minimiser_is_accurate_to_rounding_not_sqrt_eps(loss, ridge):
    """Newton stopped where f no longer resolved its decrease had left x about sqrt(eps) from
    the minimiser (2e-7 relatively, found against scikit-learn's Newton solver and scipy's
    trust-exact), less accurate than the runs it is the reference for. The gradient still
    resolves: polished by it, the Newton correction left is at rounding."""
    rng = np.random.default_rng(3)
    n, d = 3000, 5
    X = rng.standard_normal((n, d)) * [1.0, 3.0, 10.0, 0.3, 2.0]
    m = (X - X.mean(axis=0)) @ rng.standard_normal(d)
    y = np.where(m + 2.0 * m.std() * rng.standard_normal(n) > 0, 1.0, -1.0)
    prob = Halfspace.from_data(X, y, loss=loss, ridge=ridge)
    x_star, f_star = prob.solution()
    H = prob._hessian(x_star)
    correction = np.linalg.solve(H, prob.grad(x_star))
    assert np.linalg.norm(correction) <= 1e-12 * np.linalg.norm(x_star)
    assert f_star == prob.f(x_star)


def test_the_lp_checks_its_memory_first(monkeypatch):
    X, y = _data(20_000, 5, 0.01)
    prob = Halfspace.from_data(X, y)
    monkeypatch.setenv("GDNP_MAX_BYTES", "1e6")
    with pytest.raises(ValueError, match="checking separability by an LP"):
        prob._lp_separable()


def test_separable_data_certified_without_lp(monkeypatch):
    X, y = _data(60_000, 5, 0.0)
    prob = Halfspace.from_data(X, y)
    _no_lp(monkeypatch)
    with pytest.raises(NoFiniteMinimizerError):
        prob.solution()


def test_hessian_in_blocks_equals_the_dense_formula():
    prob = Halfspace.sample(6, 10.0, 3000, seed=2)
    x = np.random.default_rng(1).standard_normal(6)
    h = prob.loss.d2phi(prob._margins(x))
    dense = (prob.X.T * h) @ prob.X / prob._n
    np.testing.assert_allclose(prob._hessian(x, block=700), dense, rtol=1e-12, atol=1e-15)


def test_uncertified_large_data_runs_the_lp_with_its_log_on_stderr(monkeypatch, capfd):
    X, y = _data(60_000, 5, 0.05)
    prob = Halfspace.from_data(X, y)
    assert prob._n * prob.dim > 200_000  # the large-data branch: the LP has not run yet
    real = prob._certified_newton
    monkeypatch.setattr(prob, "_certified_newton", lambda: (real()[0], None))  # no verdict
    with pytest.warns(RuntimeWarning, match="checking separability by an LP"):
        prob.solution()
    out, err = capfd.readouterr()
    assert out == "" and "HiGHS" in err  # stdout stays the caller's


def test_small_data_runs_the_lp_once_and_quietly(monkeypatch, capfd):
    X, y = _data(2_000, 5, 0.05)
    prob = Halfspace.from_data(X, y)
    calls = []
    real_lp = type(prob)._lp_separable
    monkeypatch.setattr(type(prob), "_lp_separable",
                        lambda self, progress=False: calls.append(progress) or real_lp(self))
    real = prob._certified_newton
    monkeypatch.setattr(prob, "_certified_newton", lambda: (real()[0], None))
    prob.solution()
    assert calls == [False]  # the LP of small data decided already: no second, logged one
    assert capfd.readouterr().out == ""


def test_is_separable_decides_large_data_by_certificates_and_agrees_with_the_lp(monkeypatch):
    # large data: the certificates answer (no LP, which takes minutes from n = 5e4 at d = 100);
    # small data: the same answers as the LP alone
    small = [Halfspace.from_data(*_data(3_000, 5, flip, seed=s)) for flip, s in
             ((0.0, 0), (0.0, 1), (0.01, 0), (0.1, 2))]
    lp = [p._lp_separable() for p in small]
    assert lp == [True, True, False, False]
    _no_lp(monkeypatch)
    assert [p.is_separable() for p in small] == lp
    assert Halfspace.from_data(*_data(60_000, 5, 0.0)).is_separable() is True
    assert Halfspace.from_data(*_data(60_000, 5, 0.002)).is_separable() is False


def test_mlp_reference_stopped_by_its_budget_warns_that_it_is_an_upper_bound():
    """MLP.random(5, 4, 100, 200): the best L-BFGS run of the reference stops on its 3000
    iterations far from a stationary point (||grad f|| ~ 4e-4, weights ~ 1e3, the tanh units
    saturating); the reference says so instead of passing f* off as the minimum. One that
    converges (MLP.random(3, 2, 10, 200)) stays silent."""
    import warnings

    from gdnp.problems import MLP, ReferenceWarning

    with pytest.warns(ReferenceWarning, match="upper bound on the minimum"):
        MLP.random(5, 4, 100.0, 200, seed=0).solution()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ReferenceWarning)
        MLP.random(3, 2, 10.0, 200, seed=0).solution()


def test_mlp_reference_does_not_depend_on_the_blas_thread_count():
    """L-BFGS on the non-convex MLP amplified a threaded summation's last bits into another
    stopping point (f* moved by 4e-7 between one and two threads); it runs on one thread."""
    from threadpoolctl import threadpool_limits

    from gdnp.problems import MLP

    values = []
    for threads in (1, 2):
        with threadpool_limits(limits=threads, user_api="blas"):
            values.append(MLP.random(5, 3, 30, 400, seed=7).solution()[1])
    assert values[0] == values[1]


def test_no_finite_minimiser_is_found_once_and_kept(monkeypatch):
    """The error is a property of the problem: solution() raises it again without running the
    reference solver again (gdnp solve had run it seven times, each minutes on large data)."""
    from gdnp.problems.halfspace import EmpiricalHalfspace

    X, y = _data(400, 3, 0.0, seed=1)
    prob = Halfspace.from_data(X, y)
    calls = []
    original = EmpiricalHalfspace._reference_solution

    def counted(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(EmpiricalHalfspace, "_reference_solution", counted)
    for _ in range(3):
        with pytest.raises(NoFiniteMinimizerError, match="linearly separable"):
            prob.solution()
    assert len(calls) == 1


@pytest.mark.skipif(not hasattr(__import__("signal"), "setitimer"), reason="needs setitimer")
def test_ctrl_c_during_the_separability_lp_exits_cleanly():
    """Ctrl-C while HiGHS solves the separability LP (about 0.5 s here; the interrupt comes
    at 0.1 and 0.25 s, inside it): the KeyboardInterrupt reaches the caller and the process
    exits normally. The LP had run in a thread of this process, whose abandoned C++ solve
    aborted the interpreter at exit (SIGABRT) when it was still running then: nothing of the
    LP may be left running after the interrupt. scipy.optimize is imported first, so that the
    interrupt cannot land in its module initialisation."""
    import subprocess
    import sys

    code = (
        "import signal, sys, time\n"
        "import scipy.optimize\n"
        "from gdnp.problems import Halfspace\n"
        "p = Halfspace.sample(40, 100, 20000, seed=0)\n"
        "def interrupt(*_):\n"
        "    raise KeyboardInterrupt\n"
        "signal.signal(signal.SIGALRM, interrupt)\n"
        "t0 = time.perf_counter()\n"
        "signal.setitimer(signal.ITIMER_REAL, float(sys.argv[1]))\n"
        "try:\n"
        "    p._lp_separable()\n"
        "    signal.setitimer(signal.ITIMER_REAL, 0.0)\n"
        "    print('finished', time.perf_counter() - t0)\n"
        "except KeyboardInterrupt:\n"
        "    import multiprocessing, threading\n"
        "    left = [t.name for t in threading.enumerate() if 'separability' in t.name]\n"
        "    print('interrupted', left, multiprocessing.active_children())\n")
    for delay in ("0.1", "0.25"):
        run = subprocess.run([sys.executable, "-c", code, delay], capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
        assert "Aborted" not in run.stderr and "terminate called" not in run.stderr
        # nothing of the LP is left running: no thread in this process, no child process
        assert run.stdout.strip() == "interrupted [] []", run.stdout


def test_the_separability_lp_runs_in_a_daemonic_worker():
    """A multiprocessing.Pool (or dask) worker is daemonic and may not fork a child: the LP
    runs in a thread there (it had raised AssertionError and ended a dask sweep)."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_separability_in_worker, (0,)) is False


def _separability_in_worker(seed: int) -> bool:
    # (n d = 1e5: above the size solved directly in the calling thread)
    return Halfspace.sample(20, 10.0, 5000, seed=seed)._lp_separable()


def test_ridge_keeps_nearly_collinear_directions_the_loss_falls_along():
    """With ridge=, directions the data do not span are left out of the reference's Newton
    steps; a column 1e-7 from another is still spanned (its margins move), and the loss falls
    along it: f* must be the logistic optimum on all four columns (scipy's trust-exact on the
    same f agrees), not the three-column one about 1e-3 above it."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(1)
    n = 400
    X0 = rng.standard_normal((n, 3))
    y = np.where(X0 @ np.array([1.0, -2.0, 0.5]) + 1.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    X = np.column_stack([X0, X0[:, 0] + 1e-7 * rng.standard_normal(n)])
    p = Halfspace.from_data(X, y, ridge=1e-6)
    x_star, f_star = p.solution()
    three = Halfspace.from_data(X, y, null_space="drop").solution()[1]
    assert f_star < three - 5e-4
    res = minimize(p.f, x_star, jac=p.grad, method="BFGS", options={"gtol": 1e-12})
    assert res.fun >= f_star - 1e-12


def test_ridge_warns_where_nearly_collinear_columns_are_beyond_float64():
    """A column 1e-9 from another: the data span that direction to 5e-10 of their scale,
    X'X's condition is beyond 1e16, and the reference optimum along it is not resolved:
    solution() warns (it had stopped 9e-4 above the optimum silently). At 1e-7 it is
    resolved (the test above) and does not warn."""
    import warnings

    from gdnp.problems import ConditioningWarning

    rng = np.random.default_rng(1)
    n = 400
    X0 = rng.standard_normal((n, 3))
    y = np.where(X0 @ np.array([1.0, -2.0, 0.5]) + 1.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    near = np.column_stack([X0, X0[:, 0] + 1e-9 * rng.standard_normal(n)])
    with pytest.warns(ConditioningWarning, match="span a direction only to"):
        Halfspace.from_data(near, y, ridge=1e-6).solution()
    resolved = np.column_stack([X0, X0[:, 0] + 1e-7 * rng.standard_normal(n)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConditioningWarning)
        Halfspace.from_data(resolved, y, ridge=1e-6).solution()


def test_a_small_separability_lp_runs_in_the_calling_thread(monkeypatch):
    """A small LP (milliseconds) is solved directly: a child process costs more to fork
    (about 10 ms) than the LP, which had made sweeps on small data 1.2x slower."""
    import gdnp.problems.halfspace as hs

    def no_child(*_, **__):
        raise AssertionError("a child process for a small LP")

    monkeypatch.setattr(hs, "_in_forked_child", no_child)
    assert Halfspace.sample(3, 10.0, 200, seed=0)._lp_separable() is False


@pytest.mark.parametrize("scale, ridge", [(1.0, 1.0), (1e-3, 1.0), (1e-5, 1e-6)])
def test_exactly_collinear_columns_with_ridge_do_not_warn_at_any_scale(scale, ridge):
    """The data's null space is read off X'X itself, not off S - ridge I (which loses the
    data's small eigenvalues when the ridge exceeds them): exactly collinear columns are
    dropped without a warning at every scale, with the same f*."""
    import warnings

    from gdnp.problems import ConditioningWarning

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 300))
    X = scale * np.column_stack([a, b, a + b])
    y = np.where(a - b + rng.standard_normal(300) > 0, 1.0, -1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConditioningWarning)
        f_star = Halfspace.from_data(X, y, ridge=ridge).solution()[1]
    assert f_star == pytest.approx(Halfspace.from_data(X[:, :2], y).solution()[1], rel=1e-9)


def test_the_mlp_reference_does_not_depend_on_ridge():
    """ridge changes the BN metric only (f does not change), so f* must not either: the
    reference's starts had been scaled in S + ridge I and landed elsewhere (f* 0.4696 against
    0.4802 on these data); a mini-batch's reference likewise."""
    import warnings

    from gdnp.problems import MLP

    base = MLP.random(4, 3, 10.0, 300, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refs = []
        for ridge in (0.0, 0.5, 3.0):
            p = MLP.from_data(base.X, base.y, hidden=3, seed=0, ridge=ridge)
            refs.append((p.solution().fun, p.batch(np.arange(100)).solution().fun))
    assert refs[0] == refs[1] == refs[2]


def test_the_logistic_mean_does_not_cancel_on_nearly_separable_data():
    """mean log(1 + e^t) had summed max(t, 0) as (sum t + sum|t|)/2: with margins of |t| ~ 800
    (a certified optimum of nearly separable data) the two sums of 8e7 cancelled, and f was
    off by 6.5e-15 = 4e-12 of itself, enough for the certificate's Newton steps to stall on
    one BLAS thread and fall back to the LP (67 s). Against math.fsum: exact here."""
    import math

    from gdnp.problems import get_loss

    rng = np.random.default_rng(1)
    t = -np.abs(800.0 * rng.standard_normal(100_000))
    t[:68] = rng.uniform(0.0, 30.0, 68)  # a few misclassified samples
    fun, d1 = get_loss("logistic").value_and_dphi(t)
    exact = math.fsum(np.logaddexp(0.0, t)) / t.size
    assert abs(fun - exact) <= 4 * np.finfo(float).eps * exact
    with np.errstate(over="ignore"):
        sigma = 1.0 / (1.0 + np.exp(-t))
    np.testing.assert_allclose(d1, sigma, rtol=1e-15, atol=1e-300)


def test_the_sigmoid_second_derivative_does_not_cancel_near_zero():
    """phi'' of the sigmoid loss, sigma (1 - sigma)(1 - 2 sigma): 1 - 2 sigma(t) had cancelled
    near 0 (relative error 9e-5 at t = 1e-12); as -tanh(t/2) it keeps its digits (mpmath)."""
    mpmath = pytest.importorskip("mpmath")
    from gdnp.problems import get_loss

    d2 = get_loss("sigmoid").d2phi
    with mpmath.workdps(50):
        for t in (1e-12, 1e-8, 1e-4, 0.5, 3.0, 30.0, -2.0):
            s = 1 / (1 + mpmath.e ** (-mpmath.mpf(t)))
            ref = s * (1 - s) * (1 - 2 * s)
            assert abs(float(d2(np.array([t]))[0]) - ref) <= 4e-16 * abs(ref)


def test_ols_data_reference_refines_the_normal_equations():
    """The reference of OLS.from_data had solved the normal equations alone: cond(X) = 1e6 on
    a near-exact fit left x* 6.6e-5 off the data's minimiser (f* 2e-4); iterative refinement
    on the residuals brings it to 3e-9 (against an SVD least-squares solve)."""
    rng = np.random.default_rng(0)
    n, d = 2000, 5
    U, _ = np.linalg.qr(rng.standard_normal((n, d)))
    V, _ = np.linalg.qr(rng.standard_normal((d, d)))
    X = (U * np.geomspace(1.0, 1e-6, d)) @ V.T * np.sqrt(n)
    y = X @ rng.standard_normal(d) + 1e-8 * rng.standard_normal(n)
    from gdnp.problems import ConditioningWarning

    with pytest.warns(ConditioningWarning, match="cond"):  # (cond(S) = 1e12, said so)
        prob = OLS.from_data(X, y)
    x_star, f_star = prob.solution()
    x_ls = np.linalg.lstsq(prob.X, prob.y, rcond=None)[0]
    assert np.linalg.norm(x_star - x_ls) <= 1e-7 * np.linalg.norm(x_ls)
    resid = prob.y - prob.X @ x_ls
    assert abs(f_star - resid @ resid / n) <= 1e-9 * f_star


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
@pytest.mark.parametrize("how, platform", [("SIGTERM", None), ("SIGKILL", None),
                                           ("SIGTERM", "darwin")])
def test_the_forked_lp_child_ends_with_its_parent(tmp_path, how, platform):
    """A SIGTERM or SIGKILL to the parent runs none of its clean-up: the separability LP's
    child had gone on for 16 minutes with 5 GB after `timeout` ended its parent. The child
    (here a long sleep in place of HiGHS) must end with the parent: by the kernel's
    parent-death signal on Linux, by a thread watching the parent's pid elsewhere (the
    platform is faked as macOS for that route)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    pidfile = tmp_path / "child.pid"
    script = (
        "import os, time, types\n"
        "import gdnp.problems.halfspace as hs\n"
        + (f"hs.sys = types.SimpleNamespace(platform={platform!r})\n" if platform else "")
        + "from gdnp.problems.halfspace import _in_forked_child\n"
        "def work():\n"
        f"    open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(120)\n"
        "_in_forked_child(work, 'a test')\n")
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        for _ in range(300):
            if pidfile.exists() and pidfile.read_text():
                break
            time.sleep(0.05)
        child = int(pidfile.read_text())
        parent.send_signal(getattr(signal, how))
        parent.wait(10)
        for _ in range(100):  # the child is reaped by init once it ends
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            os.kill(child, signal.SIGKILL)
            pytest.fail(f"the child {child} outlived its parent's {how}")
    finally:
        if parent.poll() is None:
            parent.kill()


def _quasi_separated(n, d, seed=7):
    """Separable data (the first coordinate) plus a point p and 1.000001 p with opposite
    labels, all mirrored: a direction w with p'w = 0 separates every other point, so the
    logistic loss has no finite minimiser, but no direction separates strictly."""
    rng = np.random.default_rng(seed)
    h = n // 2
    Z = rng.standard_normal((h, d))
    y = np.where(rng.random(h) < 0.5, 1.0, -1.0)
    Z[:, 0] = y * (0.5 + np.abs(rng.standard_normal(h)))
    p = rng.standard_normal(d)
    p[0] = 1.0
    Z = np.vstack([Z, p, (1 + 1e-6) * p])
    y = np.r_[y, 1.0, -1.0]
    return np.vstack([Z, -Z]), np.r_[y, -y]


def test_quasi_separated_data_get_a_reference_warning():
    """No certificate holds and the LP finds no strictly separating direction: the point
    returned is Newton's last (|x| ~ 557 here, f still falling along w), not a certified
    minimiser, and solution() says so (it had returned it silently)."""
    import warnings

    from gdnp.problems import ReferenceWarning

    prob = Halfspace.from_data(*_quasi_separated(3000, 20))
    with pytest.warns(ReferenceWarning, match="quasi-separated"):
        x, f_star = prob.solution()
    assert np.linalg.norm(x) > 100.0
    with warnings.catch_warnings():  # data with a certified minimiser: no warning
        warnings.simplefilter("error", ReferenceWarning)
        Halfspace.sample(20, 10.0, 3000, seed=0).solution()


@pytest.mark.parametrize("delta", [1e-10, 1e-12])
def test_a_curvature_below_the_hessians_rounding_certifies_nothing(delta):
    """A column equal to another plus delta times the label (ridge= keeps it): the data are
    separable along their difference, where the true curvature (~delta^2) lies far below the
    computed Hessian's rounding (~1e-17). No certificate of a finite minimiser may rest on that
    curvature (both tests had certified "finite"); mu counts only above the rounding."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 10))
    y = np.where(X @ rng.standard_normal(10) + 2.0 * rng.standard_normal(600) > 0, 1.0, -1.0)
    pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y < 0)
    k = min(pos.size, neg.size)
    keep = np.r_[pos[:k], neg[:k]]  # balanced labels: centring keeps delta * y
    X, y = X[keep], y[keep]
    prob = Halfspace.from_data(np.column_stack([X, X[:, 0] + delta * y]), y, ridge=1e-6)
    v = np.zeros(prob.dim)
    v[-1], v[0] = 1.0, -1.0
    assert np.all(prob.y * (prob.X @ v) > 0)  # separable in the data as stored
    assert prob._certified_newton()[1] != "finite"


def test_certificate_does_not_depend_on_the_columns_scales():
    """Rescaling the columns changes neither separability nor f*: the finite-minimiser
    certificate bounds the roundings after a Jacobi scaling too, so spread columns certify as
    unit ones do (at n = 3e4, d = 1000, columns 1x..1e3x had failed it, and the LP had then
    run for minutes; that size is the benchmark's, too long here)."""
    from gdnp.problems import Halfspace

    rng = np.random.default_rng(0)
    n, d = 6000, 150
    Z = rng.standard_normal((n, d))
    w = rng.standard_normal(d) / np.sqrt(d)
    y = np.where(rng.random(n) < 1.0 / (1.0 + np.exp(-10.0 * (Z @ w))), 1.0, -1.0)
    values = []
    for spread in (1.0, 1e3, 1e5):
        p = Halfspace.from_data(Z * np.logspace(0, np.log10(spread), d), y)
        x, verdict = p._certified_newton()
        assert verdict == "finite", spread
        values.append(p.f(x))
    np.testing.assert_allclose(values, values[0], rtol=1e-12)
