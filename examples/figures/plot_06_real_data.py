r"""
Real data: scikit-learn's bundled datasets
==========================================

The solvers on scikit-learn's breast-cancer (logistic halfspace) and diabetes (least squares)
data, raw-centred and standardised (theory guide :ref:`theory-0`, :ref:`theory-9`). Needs the
``data`` extra (scikit-learn); without it the figure is skipped.

Gaps are relative, :math:`(f - f^*)/(f_0 - f^*)`, because the datasets' losses have different
scales; the rate fitter's classification of each curve is in the figure's JSON ``results``.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only real_data`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "real_data"
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
# .. image:: /figures/real_data.png
#    :alt: the full-size real_data figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# On real data the rates depend on standardisation; the boxes report what the rate fitter
# concludes, including runs it leaves undetermined or marks as fitted over less than a decade.

gdnp.plots.show()  # a window when run from a terminal with a display
