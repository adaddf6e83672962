"""
A custom start, loss and stopping rule
======================================

Every solver starts from ``x0`` when given (otherwise from a draw of ``seed``); GDNP and BNGD
also accept a start in BN coordinates, ``w0`` and ``g0`` (theory guide :ref:`theory-1`). A
loss is one of the named ones or a :class:`gdnp.problems.Loss`; ``callback`` sees every iterate
and may stop the run (status 99).
"""

import matplotlib.pyplot as plt
import numpy as np

import gdnp
import gdnp.plots
from gdnp.problems import Halfspace

prob = Halfspace.random(d=5, kappa=50, separation=0.9, loss="squared", seed=3)
x_star, f_star = prob.solution()

# %%
# A start of our own: a direction far from the optimum, in BN coordinates. GDNP needs
# ``u'w0 != 0`` (theory guide :ref:`theory-9`) and says so otherwise.

w0 = np.ones(prob.dim)
print("u'w0 =", float(prob.u @ w0))
res = gdnp.solve(prob, "gdnp", maxiter=200, tol=1e-12, w0=w0, g0=1.0)
print(res.message, "after", res.nit, "steps")

# %%
# A callback that records the length ``g`` of every iterate and stops once the gap is below
# ``1e-8``.

lengths = []


def stop_when_close(intermediate):
    lengths.append(float(np.sqrt(prob.S @ intermediate.x @ intermediate.x)))
    if intermediate.gap <= 1e-8:
        raise StopIteration


res = gdnp.solve(prob, "bngd", maxiter=5000, tol=0.0, callback=stop_when_close, seed=1)
print(f"BNGD: status {res.status} ({res.message}) at iteration {res.nit}")

fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.plot(lengths, label="BNGD")
ax.axhline(float(np.sqrt(x_star @ prob.S @ x_star)), ls="--", color="k", label="optimal length")
ax.set_xlabel("iteration")
ax.set_ylabel("||x||_S")
_ = ax.legend()

gdnp.plots.show()  # a window when run from a terminal with a display
