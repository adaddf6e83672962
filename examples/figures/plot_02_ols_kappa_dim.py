r"""
Least squares across condition number and dimension
===================================================

GD, GDNP and BNGD on population least squares in :math:`d = 2, 3, 100`, with C19's
pseudo-condition number :math:`\kappa^*` against :math:`\kappa` and the predicted BNGD
contraction beside the measured one (theory guide :ref:`theory-2`).

In :math:`d = 2`, :math:`\kappa^* = 1` whatever :math:`\kappa` is. Points the rate fitter
does not classify as linear over at least one decade of the gap are drawn hollow at their
fitted :math:`1 - r`.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only ols_kappa_dim`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "ols_kappa_dim"
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
# .. image:: /figures/ols_kappa_dim.png
#    :alt: the full-size ols_kappa_dim figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# C19's pseudo-condition number :math:`\kappa^*` against :math:`\kappa`: it can be far
# below :math:`\kappa`, and GD's and GDNP's rates follow :math:`\kappa`. Where BNGD's fit is
# linear over many decades (:math:`\kappa = 10`, and up to :math:`10^3` in :math:`d = 2`) its
# measured rate is C19's :math:`r` at the run's own effective step (the grey dashed line), not
# C19's best rate, which :math:`\kappa^*` sets (dash-dotted): at its default learning rate the
# effective step shrinks with :math:`\kappa`, so even in :math:`d = 2`, where
# :math:`\kappa^* = 1`, BNGD slows down like :math:`1/\kappa`, close to GD. At larger
# :math:`\kappa` its runs are not yet asymptotic and lie above that line. In :math:`d = 3` it
# is slower than GD up to :math:`\kappa = 10^3`; at :math:`10^4` neither run is asymptotic
# and BNGD's ends lower.

gdnp.plots.show()  # a window when run from a terminal with a display
