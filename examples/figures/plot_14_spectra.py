r"""
Hessian spectra in original and BN coordinates
==============================================

Eigenvalues of the Hessian in the original coordinates and in BN coordinates at the optimum,
with the null direction :math:`w` left out, and C19's :math:`\kappa^*` as the condition number
on the tangent space (theory guide :ref:`theory-12`).

The script draws the figure through the registry, :func:`gdnp.plots.make_figure`, which runs
the solvers, writes the figure's data (a long-format CSV and a JSON of its configuration and
seeds) and the PNG into a folder; on the command line,
``gdnp plots --only spectra`` does the same.
The documentation builds it in quick mode (small sizes); run the script yourself for the
full-size figure.
"""

import os
import tempfile

import gdnp.plots

NAME = "spectra"
QUICK = os.environ.get("GDNP_GALLERY_QUICK", "0") == "1"  # the docs build sets it to 1
out_dir = tempfile.mkdtemp(prefix="gdnp-figure-")

# %%
# Make the figure, then draw it again from the files just written (no solver runs).
# A figure not registered in this version of gdnp, or one that needs an optional package
# that is not installed, is reported and skipped.

if NAME not in gdnp.plots.FIGURES:
    print(f"figure {NAME!r} is not registered in gdnp {gdnp.__version__}")
    data = None
else:
    made = gdnp.plots.make_figure(NAME, out_dir, quick=QUICK)
    if "skipped" in made:
        print(f"figure {NAME!r} skipped: {made['skipped']}")
        data = None
    else:
        print(f"computed in {made['seconds']:.1f} s; files in {out_dir}")
        data = gdnp.plots.load(out_dir, NAME)
        fig = gdnp.plots.FIGURES[NAME].render(data)

# %%
# The data behind the figure: one long-format table per panel, and the configuration.
# To vary the figure, start from its configuration, ``gdnp.plots.FIGURES[NAME].config(quick)``.

if data is not None:
    for table, columns in data["tables"].items():
        print(f"table {table!r}: {len(next(iter(columns.values())))} rows, "
              f"columns {list(columns)}")
    print("configuration:", {k: v for k, v in data["config"].items() if k != "quick"})
