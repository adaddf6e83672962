"""
Run a sweep and plot its CSV
============================

:func:`gdnp.sweep.run_sweep` runs a grid of seeded cells (here OLS at three condition numbers,
two methods and two seeds) and writes one long CSV, one row per run and iteration; the same as
``gdnp sweep --problem ols --kappa 10 100 1000 --method gd gdnp --seed 0 1 --maxiter 500 --out
DIR``. An
interrupted sweep resumes where it stopped. ``jobs=2`` runs it on two processes and
``backend="dask"`` on a dask cluster.

The documentation builds this page in quick mode (``maxiter`` 100, hence fewer rows than
the script prints when you run it yourself with ``maxiter`` 500).
"""

import os
import shutil
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import gdnp.plots
from gdnp.sweep import read_results, run_sweep

QUICK = os.environ.get("GDNP_GALLERY_QUICK", "0") == "1"
out = tempfile.mkdtemp(prefix="gdnp-sweep-")
config = {"problem": ["ols"], "kappa": [10, 100, 1000], "dim": [10],
          "method": ["gd", "gdnp"], "seed": [0, 1], "maxiter": 100 if QUICK else 500}
summary = run_sweep(config, out, jobs=1, progress=False)
rows = read_results(out)
print(len(rows), "rows; columns:", list(rows[0]))

# %%
# Plot the gap of every run against the iteration, one panel per method (the CSV holds
# strings: convert as you read).

fig, axes = plt.subplots(1, 2, figsize=(8, 3.5), sharey=True, layout="constrained")
for ax, method in zip(axes, ["gd", "gdnp"], strict=True):
    for kappa in config["kappa"]:
        for seed in config["seed"]:
            sel = [r for r in rows if r["method"] == method and float(r["kappa"]) == kappa
                   and int(r["seed"]) == seed]
            it = np.array([int(r["iter"]) for r in sel])
            gap = np.array([float(r["gap"]) for r in sel])
            ax.semilogy(it, np.maximum(gap, 1e-16), color=f"C{config['kappa'].index(kappa)}",
                        label=f"kappa = {kappa}" if seed == 0 else None)
    ax.set_title(method)
    ax.set_xlabel("iteration")
axes[0].set_ylabel("f - f*")
_ = axes[0].legend()

# %%
# The folder was a temporary one: remove it (a real sweep keeps its ``--out`` folder, which
# a rerun resumes).

shutil.rmtree(out)

gdnp.plots.show()  # a window when run from a terminal with a display
