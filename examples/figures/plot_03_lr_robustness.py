r"""
Learning-rate robustness: GD against BNGD
=========================================

The gap after a fixed budget over nine decades of learning rate on least squares
(:math:`d = 10`): C19's robustness claim (theory guide :ref:`theory-2`, :ref:`theory-7`).

GD diverges (status 2, crosses drawn at the top) for every rate above :math:`1/L`; BNGD never
diverges and its best gaps lie above GD's stability limit. But its good rates span about two
decades, not all of them: for large rates :math:`\|w\|` grows and the effective step shrinks.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only lr_robustness`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "lr_robustness"
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
# .. image:: /figures/lr_robustness.png
#    :alt: the full-size lr_robustness figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# The loss after a fixed budget against the learning rate: GD diverges once the rate passes
# :math:`1/L`, BNGD keeps converging over many decades of rates (slowly at the largest), as
# C19's analysis says.

gdnp.plots.show()  # a window when run from a terminal with a display
