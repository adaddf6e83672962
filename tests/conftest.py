"""Shared problem factories for the tests (small, seeded, fast)."""

from __future__ import annotations

import numpy as np
import pytest

from gdnp.problems import MLP, OLS, BNEval, Halfspace, Problem

LOSSES = ["logistic", "sigmoid", "squared"]


def ols_data(seed=0, n=200, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ np.diag(np.geomspace(1, 10, d)) + 3.0
    y = X @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n) + 1.0
    return X, y


def halfspace_data(seed=0, n=300, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1, 3, d)
    logits = X @ rng.standard_normal(d)
    y = np.where(rng.random(n) < 1 / (1 + np.exp(-logits)), 1.0, -1.0)
    return X, y


def make_problem(kind: str, loss: str = "logistic"):
    """A small instance of every problem family."""
    if kind == "ols_pop":
        return OLS.random(4, 50, seed=1)
    if kind == "ols_data":
        return OLS.from_data(*ols_data())
    if kind == "hs_pop":
        return Halfspace.random(4, 20, separation=0.8, loss=loss, seed=2)
    if kind == "hs_data":
        return Halfspace.from_data(*halfspace_data(), loss=loss)
    if kind == "mlp":
        return MLP.random(3, 2, 10, 300, seed=3, loss=loss)
    raise ValueError(kind)


ALL_PROBLEMS = (
    [("ols_pop", "squared"), ("ols_data", "squared")]
    + [("hs_pop", loss) for loss in LOSSES]
    + [("hs_data", loss) for loss in LOSSES]
    + [("mlp", "logistic"), ("mlp", "sigmoid"), ("mlp", "squared")]
)


@pytest.fixture(params=ALL_PROBLEMS, ids=lambda p: f"{p[0]}-{p[1]}")
def any_problem(request):
    return make_problem(*request.param)


class PlainProblem(Problem):
    """A problem of one's own as the user guide describes it: ``value_and_grad`` and
    ``_reference_solution`` from the subclass, the BN methods by the chain rule of theory
    guide §1 through ``x = g w / ||w||`` (``tuple_bn``: ``value_and_grad_bn`` returns a plain
    tuple, as a user might)."""

    tuple_bn = False

    def to_bn(self, x):
        x = np.asarray(x, float)
        return x.copy(), float(np.linalg.norm(x))

    def from_bn(self, w, g):
        w = np.asarray(w, float)
        return g * w / np.linalg.norm(w)

    def value_and_grad_bn(self, w, g):
        w = np.asarray(w, float)
        n = np.linalg.norm(w)
        f, gx = self.value_and_grad(g * w / n)
        out = (f, (g / n) * (gx - w * (w @ gx) / n ** 2), w @ gx / n, gx)
        return out if self.tuple_bn else BNEval(*out)

    def dg_bn(self, w, g):
        return self.value_and_grad_bn(w, g)[2]
