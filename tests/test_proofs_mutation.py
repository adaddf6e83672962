"""Mutation tests: ``gdnp verify`` catches a changed proved formula, and ``gdnp verify
--bridge`` catches a changed numpy gradient or step (theory guide §1-§5, §8).

Each mutation is applied with ``monkeypatch`` (undone after the test) and must turn the
relevant check to ``failed`` or a bridge comparison to a mismatch; the unmutated baseline is
asserted first so that the test cannot pass vacuously.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from gdnp.proofs import get_check
from gdnp.proofs.bridge import run_bridge
from gdnp.proofs.runner import evaluate

# --- proved formulas ------------------------------------------------------------------------


FACTOR = sp.Rational(101, 100)


def _scaled(fn, factor=FACTOR):
    def mutated(*args, **kwargs):
        return fn(*args, **kwargs) * factor

    return mutated


FORMULA_MUTATIONS = [
    ("gdnp.proofs.ols", "grad_rho_formula", "ols.grad_rho"),
    ("gdnp.proofs.ols", "grad_rho_formula", "ols.step4"),
    ("gdnp.proofs.c19", "h_star", "c19.hessian_at_optimum"),
    ("gdnp.proofs.c19", "h_star", "c19.h_star_psd_rank"),
    ("gdnp.proofs.bn.GeneralSetting", "projector_T", "bn.chain_rule"),
    ("gdnp.proofs.k19", "sigmoid_c1_limit", "k19.sigmoid_c1_limit"),
]


@pytest.mark.parametrize(("target", "name", "check"), FORMULA_MUTATIONS)
def test_mutated_formula_is_reported_failed(
    monkeypatch: pytest.MonkeyPatch, target: str, name: str, check: str
) -> None:
    assert evaluate(get_check(check)).status == "proved"
    module_path, _, attr_owner = target.rpartition(".")
    import importlib

    try:
        owner = importlib.import_module(target)
    except ModuleNotFoundError:
        owner = getattr(importlib.import_module(module_path), attr_owner)
    monkeypatch.setattr(owner, name, _scaled(getattr(owner, name)))
    result = evaluate(get_check(check))
    assert result.status == "failed", result.detail
    assert "residual" in result.detail


def test_mutated_formula_is_caught_by_the_bridge(monkeypatch: pytest.MonkeyPatch) -> None:
    from gdnp.proofs import ols

    assert all(r.ok for r in run_bridge(forms=("ols",)))
    monkeypatch.setattr(ols, "step4_map", _scaled(ols.step4_map))
    bad = [r.target for r in run_bridge(forms=("ols",)) if not r.ok]
    assert "GDNP direction step" in bad


# --- numpy gradients and steps --------------------------------------------------------------


def _perturb(fn, index: int | None = None, factor: float = 1.0 + 1e-4):
    """Wrap ``fn`` so that its result (or element ``index`` of a tuple result) is scaled."""

    def mutated(*args, **kwargs):
        out = fn(*args, **kwargs)
        if index is None:
            return out * factor
        if hasattr(out, "_replace"):  # a named tuple (BNEval) stays one
            return out._replace(**{out._fields[index]: out[index] * factor})
        out = list(out)
        out[index] = out[index] * factor
        return tuple(out)

    return mutated


def _numpy_targets():
    from gdnp import decoupled
    from gdnp.problems import MLP, OLS
    from gdnp.problems.base import LinearProblem
    from gdnp.problems.halfspace import EmpiricalHalfspace, GaussianHalfspace
    from gdnp.problems.mlp import UnitView

    return [
        # (owner, attribute, tuple index or None, bridge forms, a target that must mismatch)
        (OLS, "_value_and_grad_bn", 1, ("ols",), "grad_bn[w]"),
        (OLS, "_eval_scaled", 0, ("ols",), "f_bn"),
        (OLS, "_dg", None, ("ols",), "dg_bn"),
        (OLS, "optimal_length", None, ("ols",), "optimal_length"),
        (LinearProblem, "rayleigh_grad", None, ("ols",), "rayleigh_grad"),
        (decoupled, "rayleigh_step_size", None, ("ols",), "GDNP direction step"),
        (GaussianHalfspace, "_eval_scaled", 1, ("population",), "grad_bn[w]"),
        (GaussianHalfspace, "_dg", None, ("population",), "dg_bn"),
        (GaussianHalfspace, "_c1", None, ("population",), "stein_c1"),
        (EmpiricalHalfspace, "_eval_scaled", 1, ("empirical",), "grad_bn[w]"),
        (EmpiricalHalfspace, "_dg", None, ("empirical",), "dg_bn"),
        (MLP, "value_and_grad", 1, ("mlp",), "grad_bn[w] unit 0"),
        (UnitView, "c1", None, ("mlp",), "UnitView.c1 unit 0"),
    ]


@pytest.fixture(scope="module")
def baseline() -> dict[str, list]:
    from gdnp.proofs.bridge import FORMS

    return {form: run_bridge(forms=(form,)) for form in FORMS}


@pytest.mark.parametrize("case", range(13))
def test_mutated_numpy_gradient_is_caught_by_the_bridge(
    monkeypatch: pytest.MonkeyPatch, baseline: dict, case: int
) -> None:
    owner, attr, index, forms, target = _numpy_targets()[case]
    assert all(r.ok for form in forms for r in baseline[form])
    monkeypatch.setattr(owner, attr, _perturb(getattr(owner, attr), index))
    results = run_bridge(forms=forms)
    bad = {r.target for r in results if not r.ok}
    assert target in bad, (owner, attr, bad)
    assert max(r.error for r in results) > 1e-6


def test_bridge_errors_are_tiny() -> None:
    results = run_bridge(forms=("population",), seed=3, d=3)
    assert results and max(r.error for r in results) < 1e-9
    assert np.isfinite([r.error for r in results]).all()
