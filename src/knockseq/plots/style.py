"""What every knockseq figure shares: the Okabe-Ito palette, font size, non-overlapping labels and
byte-stable writing (:func:`write_figure`)."""

from __future__ import annotations

import os

import pandas as pd

from knockseq.io import atomic_path, write_tsv

#: Okabe & Ito (2008), "Color Universal Design": name -> hex.
OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
#: Colour cycle for groups (conditions, gene sets), in order of use.
CYCLE = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky_blue", "yellow", "black")]
#: Colours of the DE classes of volcano and MA plots.
DE_COLOURS = {"down": OKABE_ITO["blue"], "up": OKABE_ITO["vermillion"], "not significant": "#BBBBBB"}
#: Label kinds of :func:`label_genes`, in precedence order, and their colours.
LABEL_COLOURS = {"knockdown target": OKABE_ITO["orange"], "ESR1": OKABE_ITO["purple"], "ER core": OKABE_ITO["green"]}
#: Genes with the most variable VST values used for the PCA, as DESeq2's plotPCA (ntop = 500).
PCA_TOP_GENES = 500
FONT_SIZE = 11
#: Iterations of adjustText's label layout (it stops earlier once no label overlaps).
ADJUST_ITERATIONS = 1000


def pyplot():
    """matplotlib.pyplot on the non-interactive Agg backend (jobs have no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_figure(fig, values: pd.DataFrame, stem: str | os.PathLike) -> None:
    """Write ``stem.png``, ``stem.svg`` and the plotted values as ``stem.tsv``, atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Closed after writing.
    values : pandas.DataFrame
        What the figure draws (written without its index).
    stem : str or PathLike
        Path without extension.
    """
    plt = pyplot()
    write_tsv(values, f"{stem}.tsv")
    # Fixed hash salt and no date: reruns on the same tables give byte-identical figures.
    with plt.rc_context({"svg.hashsalt": "knockseq"}):
        for kind in ("png", "svg"):
            with atomic_path(f"{stem}.{kind}") as tmp:
                fig.savefig(tmp, format=kind, dpi=150, metadata={"Date": None} if kind == "svg" else {"Software": None})
    plt.close(fig)


def adjust_labels(ax, texts: list, x: pd.Series, y: pd.Series) -> None:
    """Move ``texts`` apart and off the points (x, y: n_points), joined to their point by a line.

    A fixed iteration count, not adjustText's default 1-second time limit, so that the layout,
    and the files, do not depend on how busy the machine is.
    """
    from adjustText import adjust_text

    if texts:
        # Stronger text repulsion and a weaker pull than adjustText's defaults: with its defaults
        # ER core labels in a crowded volcano (MCF-7 estradiol) overlap after 1000 steps.
        adjust_text(
            texts,
            x=x.to_numpy(dtype=float),
            y=y.to_numpy(dtype=float),
            ax=ax,
            iter_lim=ADJUST_ITERATIONS,
            expand=(1.4, 1.8),
            force_text=(1.0, 1.5),
            force_pull=(0.005, 0.005),
            arrowprops={"arrowstyle": "-", "color": "0.35", "linewidth": 0.6},
        )
