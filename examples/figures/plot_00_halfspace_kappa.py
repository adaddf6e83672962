r"""
Linear against sublinear across condition numbers
=================================================

A logistic halfspace under K19's Gaussian model (:math:`d = 10`, separation
:math:`c = 0.9`, solved exactly by Gauss-Hermite quadrature) at condition numbers
:math:`\kappa = 1 \dots 10^4`: the gap :math:`f - f^*` and :math:`\|\nabla f\|^2_{S^{-1}}`
of GD, AGD and GDNP against the iteration, with K19's bounds dashed
(theory guide :ref:`theory-4`, :ref:`theory-7`).

The figure's JSON ``results`` record where a bound is crossed: in the full-size run the
combined bound never is, and the direction bound only at :math:`\kappa = 1`, where the bound
is 0 and the measurement is at rounding level. Labels on the curves are what the rate fitter
:func:`gdnp.rates.fit_rate` decides for the window drawn.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only halfspace_kappa`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "halfspace_kappa"
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
# .. image:: /figures/halfspace_kappa.png
#    :alt: the full-size halfspace_kappa figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# At :math:`\kappa = 100` GDNP's gap falls on a straight line in log scale (linear convergence) to
# the rounding floor, where GD's bends (undetermined over the window drawn, whose gap falls too
# little to tell an order: a transient, since near the optimum the problem is strongly convex and
# GD's local rate, far slower, is not reached in 1500 steps). At :math:`\kappa = 1` GDNP reaches
# the rounding floor in one step (nothing left to fit: its box reads undetermined) and GD
# converges linearly at :math:`1 - r` of about 0.007 per step.
# At :math:`\kappa = 10^4` GDNP's rate :math:`(1 - 1/\kappa)^2` needs far more than the 1500 steps
# shown and AGD is ahead; the label of such a short window depends on the run. K19's combined
# bound stays above GDNP's gradient norm in every panel. The boxes say what the rate fitter
# concludes for each run; a rate marked with the decades of its window comes from one where the
# gap fell less than tenfold, weak evidence of the asymptotic rate.

gdnp.plots.show()  # a window when run from a terminal with a display
