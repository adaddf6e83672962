r"""
Iterations to a fixed gap over condition number and separation
==============================================================

Iterations until :math:`f - f^* \le 10^{-6}` (capped, hatched when the cap is hit) on the
Gaussian logistic halfspace, over :math:`\kappa` and the separation :math:`c`
(theory guide :ref:`theory-3`, :ref:`theory-4`).

The target is relative, :math:`10^{-6}` of the initial gap, because :math:`f^*` ranges over
a hundred decades across :math:`c`; the cell counts are in the figure's CSV.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only separation`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "separation"
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
# .. image:: /figures/separation.png
#    :alt: the full-size separation figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# Iterations to a fixed relative gap over condition number and separation: GD's count grows
# with both; GDNP's grows with the condition number but not with the separation (it even
# falls as the separation approaches 1). Hatched cells did not reach the target within the
# budget.

gdnp.plots.show()  # a window when run from a terminal with a display
