r"""
Gap against passes over the data and wall-clock time
====================================================

The gap on an empirical logistic halfspace (:math:`n = 10^5` in the full-size run) against
the oracle cost, counted in passes over the data, and against wall-clock time, for GD, AGD and
GDNP, with scipy's L-BFGS beside as the reference a user would pick (theory guide
:ref:`theory-4`, :ref:`theory-6`, :ref:`theory-7`). GDNP's bisections are charged for what they
cost.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only cost`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "cost"
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
# .. image:: /figures/cost.png
#    :alt: the full-size cost figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# Cost in passes over the data (what each step needs) and in seconds: GDNP's extra
# evaluations of :math:`\partial_g f` are cheap next to its faster convergence, and scipy's
# L-BFGS, drawn as the reference a user would pick, beats all three.

gdnp.plots.show()  # a window when run from a terminal with a display
