r"""
A teacher-student tanh network and unit alignment
=================================================

GD, BNGD and GDNP (unit by unit) on a one-hidden-layer tanh network trained on
teacher-student data, with the angle between each unit's :math:`S\tilde w_i` and :math:`u`
(theory guide :ref:`theory-5`).

The units do *not* align with :math:`S^{-1}u` (final angles between about 14 and 65 degrees
for GDNP in the full-size run). Teacher labels make :math:`z` non-Gaussian, outside K19's
alignment lemma, which on Gaussian :math:`z` puts every unit on that line at a critical point
of the whole hidden layer (with a nonsingular :math:`B`). GDNP keeps the output weights
fixed (K19's setting), GD and BNGD train them.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only mlp`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure (its files go to ``./gdnp_figures``).
"""

import os

import gdnp.plots

NAME = "mlp"
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
# .. image:: /figures/mlp.png
#    :alt: the full-size mlp figure

# %%
# What to see (in the full-size figure)
# -------------------------------------
# The angle between :math:`S\tilde w_i` and :math:`u` for each hidden unit: on these
# non-Gaussian data the angles need not go to 0. In the loss panel GDNP trains the units with
# the output weights fixed (K19's setting), so its gap levels off where it converges on that
# restricted problem, above :math:`f^*`, while GD and BNGD train the output weights too: the
# panel compares two settings, not two speeds.

gdnp.plots.show()  # a window when run from a terminal with a display
