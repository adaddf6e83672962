r"""
Asymptotic rates against the separation
=======================================

The fitted :math:`1 - r` of each method on the Gaussian halfspace as the
separation :math:`c` grows towards separable data (theory guide :ref:`theory-3`,
:ref:`theory-4`, :ref:`theory-12`): GD's local rate is set by the Hessian at the optimum, which
degrades as :math:`c \to 1`; GDNP's direction step is the least-squares step whatever
:math:`c` is.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only rates_vs_separation`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "rates_vs_separation"
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
# .. image:: /figures/rates_vs_separation.png
#    :alt: the full-size rates_vs_separation figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# GDNP's :math:`1 - r` stays flat as the separation grows, while GD's falls with the
# Hessian's smallest eigenvalue at the optimum, as its predicted rate (drawn beside) says, up
# to :math:`c = 0.8`. At :math:`c = 0.9` GD is faster than predicted, and from
# :math:`c = 0.95`, where the predicted rate collapses, GD's fits are not linear (hollow): its
# runs have not reached the optimum's neighbourhood, where that rate would apply.

gdnp.plots.show()  # a window when run from a terminal with a display
