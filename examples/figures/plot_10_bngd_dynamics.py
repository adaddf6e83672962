r"""
BNGD's dynamics: growing weights and a shrinking effective step
===============================================================

BNGD on least squares at direction rates from :math:`0.5/L` to :math:`5000/L`: the weight
norm :math:`\|w_k\|_2` (which never decreases), the effective step :math:`\hat\epsilon` and
the measured contraction against C19's predicted :math:`r` (theory guide :ref:`theory-1`,
:ref:`theory-2`). This is why large rates converge, but slowly.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only bngd_dynamics`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "bngd_dynamics"
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
# .. image:: /figures/bngd_dynamics.png
#    :alt: the full-size bngd_dynamics figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# BNGD's direction norm grows, which shrinks its effective step, and the contraction per step
# settles on C19's predicted rate for moderate direction rates.

gdnp.plots.show()  # a window when run from a terminal with a display
