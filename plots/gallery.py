"""Show a registered figure the way the gallery does: make it, display it, describe its data.

One helper for the gallery scripts and for notebooks (theory guide §7): the figure is made
through the registry (:func:`gdnp.plots.make_figure`), its PNG shown in a matplotlib figure,
and its long-format tables and configuration summarised.
"""

from __future__ import annotations

import contextlib
import tempfile

__all__ = ["show", "show_figure"]

#: Backends that cannot show a window (the docs build's and a headless machine's).
_NON_INTERACTIVE = {"agg", "pdf", "ps", "svg", "pgf", "cairo", "template"}


def show_figure(name: str, out_dir=None, *, quick: bool = False, describe: bool = True):
    """Make the registered figure ``name``, show its PNG and summarise the data behind it.

    Parameters
    ----------
    name : str
        A name in :data:`gdnp.plots.FIGURES`.
    out_dir : str or path, optional
        Where the PNG, CSV and JSON go (default: a temporary folder, removed once they are
        read).
    quick : bool, default False
        Small sizes and iteration counts (what the documentation builds).
    describe : bool, default True
        Print where the files are, one line per data table and the configuration.

    Returns
    -------
    dict or None
        The figure's data as :func:`gdnp.plots.load` returns it (``tables``, ``config``,
        ``results``), or ``None`` when the figure is not registered in this version or was
        skipped (an optional package such as scikit-learn is missing); the reason is printed.

    Examples
    --------
    >>> from gdnp.plots import show_figure
    >>> data = show_figure("trajectories", quick=True, describe=False)
    >>> sorted(data)[:3]
    ['config', 'meta', 'name']
    """
    import matplotlib.pyplot as plt

    from ._core import FIGURES, load, make_figure

    if name not in FIGURES:
        print(f"figure {name!r} is not registered in this version of gdnp")
        return None
    with contextlib.ExitStack() as stack:
        # no out_dir: a temporary folder, removed once the figure and its data are read
        keep = out_dir is not None
        folder = out_dir if keep else stack.enter_context(
            tempfile.TemporaryDirectory(prefix="gdnp-figure-"))
        made = make_figure(name, folder, quick=quick)
        if "skipped" in made:
            print(f"figure {name!r} skipped: {made['skipped']}")
            return None
        data = load(folder, name)
        image = plt.imread(made["png"])
    fig = plt.figure(figsize=(image.shape[1] / 100, image.shape[0] / 100))
    fig.add_axes((0, 0, 1, 1)).imshow(image)
    fig.axes[0].set_axis_off()
    if describe:
        where = f"files in {out_dir}" if keep else "pass out_dir= to keep the files"
        print(f"computed in {made['seconds']:.1f} s; {where}")
        for table, columns in data["tables"].items():
            print(f"table {table!r}: {len(next(iter(columns.values())))} rows, "
                  f"columns {list(columns)}")
        print("configuration:", {k: v for k, v in data["config"].items() if k != "quick"})
    return data


def show() -> None:
    """``matplotlib.pyplot.show()`` where the backend can show a window, else nothing (under
    Agg, the documentation build's and a headless machine's backend, ``plt.show`` only warns
    that it cannot): the gallery scripts end with it, so that run from a terminal they open
    their figures.

    Examples
    --------
    >>> from gdnp.plots import show
    >>> show()  # on a headless machine (the Agg backend): nothing to show, and no warning
    """
    import matplotlib
    import matplotlib.pyplot as plt

    if matplotlib.get_backend().lower() not in _NON_INTERACTIVE:
        plt.show()
