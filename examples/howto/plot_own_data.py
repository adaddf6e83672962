r"""
Solve your own data
===================

Build a problem from a feature matrix and labels with ``from_data`` (here scikit-learn's
breast-cancer data; any ``numpy`` array works the same way, e.g. one read with
:func:`numpy.loadtxt` from a CSV), then compare GDNP with gradient descent.

The constructors centre the features (theory guide :ref:`theory-0`), and the model has no
intercept: the logistic loss of :math:`-y\,x^\top\tilde w` on centred :math:`x`, a BN unit's
pre-activation without its offset. On unbalanced labels its optimum is not that of a logistic
regression with an intercept (scikit-learn's ``LogisticRegression(fit_intercept=False)`` on the
centred features is this model). Features on wildly
different scales make :math:`S` badly conditioned; standardising them is the usual cure for
that part, though not for nearly collinear features (the breast-cancer data below keep
a condition number of about :math:`10^5` after it). A
singular :math:`S` (constant or collinear columns) raises an error naming the columns, with
``ridge=`` and ``null_space="drop"`` as the remedies (theory guide :ref:`theory-9`).

The documentation builds this page in quick mode (150 iterations; the script runs 1000 when
you run it yourself).
"""

import os

import matplotlib.pyplot as plt
import numpy as np

import gdnp
import gdnp.plots
from gdnp.problems import Halfspace

QUICK = os.environ.get("GDNP_GALLERY_QUICK", "0") == "1"
MAXITER = 150 if QUICK else 1000

try:
    from sklearn.datasets import load_breast_cancer
except ImportError:  # the "data" extra is optional: fall back to synthetic data
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 10)) * np.logspace(0, 2, 10)
    y = np.sign(X @ rng.standard_normal(10) + 0.5 * rng.standard_normal(500))
else:
    X, labels = load_breast_cancer(return_X_y=True)
    y = np.where(labels == 1, 1.0, -1.0)  # labels must be -1 / +1

X = (X - X.mean(axis=0)) / X.std(axis=0)  # standardise
prob = Halfspace.from_data(X, y, loss="logistic")
print(prob, f"kappa(S) = {prob.kappa:.3g}")

# %%
# Solve with GDNP and GD for the same budget, and plot the gap to the reference optimum
# (``prob.solution()``, an independent L-BFGS solve).

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for method in ["gd", "gdnp"]:
    res = gdnp.solve(prob, method, maxiter=MAXITER, tol=0.0, seed=0)
    fit = gdnp.rates.fit_order(res.history["iter"], res.history["gap"])
    print(f"{method}: status {res.status}, final gap {res.history['gap'][-1]:.3g}, "
          f"{fit['kind']} fit")
    ax.semilogy(res.history["iter"], np.maximum(res.history["gap"], 1e-16), label=method)
ax.set_xlabel("iteration")
ax.set_ylabel("f - f*")
_ = ax.legend()

gdnp.plots.show()  # a window when run from a terminal with a display
