r"""
Batch, weight, L1, L3 and L-infinity normalization: rates and curvature
=======================================================================

The fitted :math:`1 - r` of GD, BNGD and GDNP over a fixed budget against :math:`\kappa` for
every norm of theory guide :ref:`theory-10`, centred and uncentred (on shifted data, so that
centring matters; hollow points are fits the rate fitter does not call linear), and at the
solution the top BN-coordinate Hessian eigenvalue and BNGD's distance moved per norm. No
published rate covers the norms other than BN's: these curves are measurements, not checks of
a theorem.

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only normalizations`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure.
"""

import os
import tempfile

import matplotlib.pyplot as plt

import gdnp.plots

NAME = "normalizations"
QUICK = os.environ.get("GDNP_GALLERY_QUICK", "0") == "1"  # the docs build sets it to 1
out_dir = tempfile.mkdtemp(prefix="gdnp-figure-")

# %%
# Make the figure and show the PNG it wrote. ``gdnp.plots.redraw(out_dir, NAME)`` redraws it
# from its data files alone, and ``gdnp.plots.FIGURES[NAME].render(data)`` returns the
# :class:`matplotlib.figure.Figure` to restyle. A figure not registered in this version of
# gdnp, or one that needs an optional package that is not installed, is reported and skipped.

data = None
if NAME not in gdnp.plots.FIGURES:
    print(f"figure {NAME!r} is not registered in gdnp {gdnp.__version__}")
else:
    made = gdnp.plots.make_figure(NAME, out_dir, quick=QUICK)
    if "skipped" in made:
        print(f"figure {NAME!r} skipped: {made['skipped']}")
    else:
        print(f"computed in {made['seconds']:.1f} s; files in {out_dir}")
        data = gdnp.plots.load(out_dir, NAME)
        image = plt.imread(made["png"])
        fig = plt.figure(figsize=(image.shape[1] / 100, image.shape[0] / 100))
        fig.add_axes((0, 0, 1, 1)).imshow(image)
        fig.axes[0].set_axis_off()

# %%
# The data behind the figure: one long-format table per panel, and the configuration.
# To vary the figure, start from its configuration, ``gdnp.plots.FIGURES[NAME].config(quick)``.

if data is not None:
    for table, columns in data["tables"].items():
        print(f"table {table!r}: {len(next(iter(columns.values())))} rows, "
              f"columns {list(columns)}")
    print("configuration:", {k: v for k, v in data["config"].items() if k != "quick"})
