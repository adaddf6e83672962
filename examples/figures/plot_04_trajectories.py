r"""
Weight paths in two dimensions
==============================

The paths of GD, BNGD and GDNP over the contours of a two-dimensional least-squares problem
(theory guide :ref:`theory-1`, :ref:`theory-2`). BNGD and GDNP get the length right at the
first step and spend the rest on the direction, turning towards the line
:math:`w \propto S^{-1}u` (what gap is left after the first step is direction error); GD at its
default step
:math:`1/(2L)` does not zig-zag (that needs a step above :math:`1/(2L)`, see ``gdnp claims``,
claim ``seed.zigzag``).

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only trajectories`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "trajectories"
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
# .. image:: /figures/trajectories.png
#    :alt: the full-size trajectories figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# The weight paths over the OLS contours in :math:`d = 2`: BNGD and GDNP move the direction
# and the length separately, GD moves both at once.

gdnp.plots.show()  # a window when run from a terminal with a display
