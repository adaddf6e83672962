r"""
Batch, weight, L1, L3 and L-infinity normalization: rates and curvature
=======================================================================

The fitted :math:`1 - r` of GD, BNGD and GDNP over a fixed budget against :math:`\kappa` for
every norm of theory guide :ref:`theory-10`, centred and uncentred (on shifted data, so that
centring matters; half-filled markers are the uncentred norms, hollow points medians where
some norm's fit is not linear over at least a decade), and at the
solution the top BN-coordinate Hessian eigenvalue and BNGD's distance moved per norm. No
published rate covers the norms other than BN's: these curves are measurements, not checks of
a theorem.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only normalizations`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "normalizations"
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
# .. image:: /figures/normalizations.png
#    :alt: the full-size normalizations figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# GDNP's iterates agree across norms once its length is solved (the batch norm's first step
# starts from the given length, theory guide :ref:`theory-10`), while BNGD's
# fitted speed-up over GD changes with the norm and with centring. These are fits over a fixed
# budget on one sample: few are classified linear.

gdnp.plots.show()  # a window when run from a terminal with a display
