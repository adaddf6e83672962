r"""
BNGD and GD on small least-squares problems, default and tuned rates
====================================================================

BNGD and GD on least squares in :math:`d = 2` and :math:`d = 3`, at their default rates and
at tuned ones (theory guide :ref:`theory-2`, :ref:`theory-7`): in :math:`d = 2`,
:math:`\kappa^* = 1` whatever :math:`\kappa` is, so BNGD's best rate does not degrade with the
condition number while GD's does.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only seed_ols`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "seed_ols"
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
# .. image:: /figures/seed_ols.png
#    :alt: the full-size seed_ols figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# The seed note's experiments: with tuned rates, GD needs fewer iterations than BNGD in
# :math:`d = 3` on this instance (the note says BNGD is slightly faster), and BNGD is far
# faster in :math:`d = 2`, where :math:`\kappa^* = 1`.

gdnp.plots.show()  # a window when run from a terminal with a display
