"""Figures of one run, one module per kind: :mod:`~knockseq.plots.de` (volcano, MA, p-values,
knockdown targets), :mod:`~knockseq.plots.gsea` (running-score curves, sets, ER leading-edge
heatmap) and :mod:`~knockseq.plots.qc` (PCA, sample distances, library sizes, dispersions, size
factors); :mod:`~knockseq.plots.style` holds what they share.

Every plot is a function of a step's tables that returns the figure and the values it draws
(a DataFrame, written beside the figure as ``.tsv`` so every point can be looked up and checked).
:func:`~knockseq.plots.style.write_figure` saves both atomically: PNG, SVG with a fixed hash salt
and no date, so reruns on the same tables give byte-identical files. Colours are the Okabe-Ito
palette, which stays distinguishable with the common colour-vision deficiencies.
"""
