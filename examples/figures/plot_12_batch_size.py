r"""
Mini-batch statistics: BNGD and SGD against the batch size
==========================================================

The full-data suboptimality of stochastic BNGD and SGD after a fixed number of epochs, against
the batch size, with batch statistics (training-mode BN, :math:`\epsilon = 10^{-5}`) or
population statistics (theory guide :ref:`theory-11`). The batch-statistics gradient is biased
for the full objective and its fixed points move by :math:`O(1/b)`; the population-statistics
one is unbiased.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only batch_size`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "batch_size"
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
# .. image:: /figures/batch_size.png
#    :alt: the full-size batch_size figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# Mini-batch statistics against the batch size, at a fixed number of epochs (so large batches
# get few steps and the right end rises for that reason): normalizing with a small batch's
# own statistics leaves BNGD a higher gap than population statistics, on least squares up to
# ``B = 128`` (at ``B = 256`` the two end within about 1%); on the halfspace clearly only up
# to ``B = 8``; beyond it batch statistics end lower in the full-size run (one seed: whether
# that holds for others, this figure does not say).

gdnp.plots.show()  # a window when run from a terminal with a display
