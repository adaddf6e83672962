r"""
Asymptotic rates against the condition number
=============================================

The fitted :math:`1 - r` of each method against :math:`\kappa` (the
per-iteration contraction of the gap above its rounding floor: the median over seeds with a
min-max band), beside the rate each theory predicts: K19's :math:`1 - (1 - 1/\kappa)^2` for GDNP,
and on least squares for GD too (its gap contracts by :math:`(1 - 1/\kappa)^2` per step at
step :math:`1/(2L)`), C19's :math:`r` for BNGD, with :math:`1/\kappa` and
:math:`1/\sqrt{\kappa}` as scaling guides (theory guide :ref:`theory-2`, :ref:`theory-4`,
:ref:`theory-7`): which method has which dependence on :math:`\kappa`.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only rates_vs_kappa`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "rates_vs_kappa"
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
# .. image:: /figures/rates_vs_kappa.png
#    :alt: the full-size rates_vs_kappa figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# Each method's fitted :math:`1 - r` against :math:`\kappa` beside its theory line: GD and
# GDNP on the K19 line on least squares up to :math:`\kappa = 100` (beyond, their windows are
# still transient and their fitted rates lie above it), AGD on the :math:`1/\sqrt{\kappa}`
# slope, BNGD below C19's best rate up to :math:`\kappa = 1000` (its runs at larger
# :math:`\kappa` are not yet asymptotic). Hollow markers: some seed's run is not linear over
# at least a decade (the linear fit's :math:`1 - r` is still drawn); at :math:`\kappa = 10^4`
# AGD's local rate on the halfspace still grows over its window, and no seed reads linear
# there.

gdnp.plots.show()  # a window when run from a terminal with a display
