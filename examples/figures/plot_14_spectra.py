r"""
Hessian spectra at the optimum in original and BN coordinates
=============================================================

Hessian eigenvalues at the optimum in the original and in BN coordinates (with the null
direction :math:`w` left out) against :math:`\kappa`, for least squares and the Gaussian
halfspace, with C19's :math:`\kappa^*` drawn as the condition number on the tangent space; and
gradient descent's measured halfspace rate against the rate the Hessian at the optimum
predicts for the gap, :math:`1 - r` with :math:`r = \max_i (1 - \mathrm{lr}\,\lambda_i)^2`
(theory guide :ref:`theory-12`).

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only spectra`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "spectra"
QUICK = os.environ.get("GDNP_GALLERY_QUICK", "0") == "1"  # the docs build sets it to 1
OUT = None if QUICK else "gdnp_figures"  # run as a script: the files are kept here

# %%
# Make the figure, show the PNG it wrote and summarise the data behind it (one long-format
# table per panel, and the configuration). ``gdnp.plots.redraw(out_dir, NAME)`` redraws it from
# its data files alone, ``gdnp.plots.FIGURES[NAME].render(data)`` returns the
# :class:`matplotlib.figure.Figure` to restyle, and ``gdnp.plots.FIGURES[NAME].config(QUICK)``
# is the configuration to start from to vary it. A figure that needs an optional package that is
# not installed is reported and skipped.

data = gdnp.plots.show_figure(NAME, quick=QUICK, out_dir=OUT)

# %%
# The full-size figure
# --------------------
# The documentation builds the figure above in quick mode (small sizes, for speed); the
# full-size one, which ``gdnp plots`` makes and the text below describes, is this:
#
# .. image:: /figures/spectra.png
#    :alt: the full-size spectra figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# In BN coordinates the least-squares Hessian's condition number on the tangent space is
# C19's :math:`\kappa^*`, below the original :math:`\kappa`. GD's measured halfspace rate
# matches the Hessian's prediction at :math:`\kappa = 1`; at :math:`\kappa = 10` its fitted
# :math:`1 - r` is about a fifth above the prediction, over half a decade and not classified
# linear (hollow, as at :math:`c = 0.9` in the separation figure); at larger :math:`\kappa`
# the runs are further from asymptotic (hollow markers too), and their
# fitted :math:`1 - r` lies far above the prediction (about 4x at :math:`\kappa = 100`, 130x
# at :math:`10^4` in the full-size figure).

gdnp.plots.show()  # a window when run from a terminal with a display
