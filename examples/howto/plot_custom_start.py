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

# %%
# A loss of our own: :class:`gdnp.problems.Loss` needs ``phi``, its two derivatives, whether it
# is convex and bounds on ``phi''`` and ``|phi'|`` (the solvers' step sizes read them). The
# logistic loss of slope 2, halved, ``phi(t) = log(1 + e^(2t)) / 2``:

from scipy.special import expit  # noqa: E402

from gdnp.problems import Loss  # noqa: E402

softplus2 = Loss("softplus2", phi=lambda t: 0.5 * np.logaddexp(0.0, 2.0 * t),
                 dphi=lambda t: expit(2.0 * t),
                 d2phi=lambda t: 2.0 * expit(2.0 * t) * expit(-2.0 * t),
                 convex=True, max_d2phi=0.5, max_dphi=1.0)
own = Halfspace.random(d=5, kappa=50, separation=0.9, loss=softplus2, seed=3)
res = gdnp.solve(own, "gdnp", maxiter=300)
print(f"GDNP with the loss {own.loss.name}: status {res.status}, gap "
      f"{res.history['gap'][-1]:.1e} after {res.nit} steps")

gdnp.plots.show()  # a window when run from a terminal with a display
