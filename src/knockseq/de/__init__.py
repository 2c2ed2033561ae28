"""Differential expression with PyDESeq2: one fit per design, one test per contrast; VST for QC.

The entry point of the workflow scripts, the tests and ``bench/``; one concern per module:

- :mod:`knockseq.de.backend`: the PyDESeq2 classes that ``de.compat`` (R's rules or stock
  PyDESeq2) and ``de.engine`` (batched or per-gene GLM) select;
- :mod:`knockseq.de.fit`: :func:`fit_design`, DESeq2's fit of a
  :class:`~knockseq.fits.FitSpec` once (pre-filter, size factors, dispersions, GLM, Cook's);
- :mod:`knockseq.de.results`: :func:`contrast_results`, the Wald test, independent filtering,
  Cook's filtering and apeGLM shrinkage of one contrast on a fit, as R's
  ``results(dds, contrast=)`` and ``lfcShrink`` on one ``DESeq(dds)``; :func:`run_contrast`,
  the fit and test of a contrast alone;
- :mod:`knockseq.de.files`: :func:`write_fit` / :func:`read_fit`, a fit carried between
  workflow jobs, and :func:`write_de`, the four files of ``docs/contracts.md``;
- :mod:`knockseq.de.transform`: :func:`vst`, variance-stabilised expression for QC plots.
"""

from knockseq.de.backend import COMPAT_MODES
from knockseq.de.files import read_fit, write_de, write_fit
from knockseq.de.fit import DISPERSION_TRENDS, FitResult, fit_design
from knockseq.de.results import RESULT_COLUMNS, DEResult, contrast_results, run_contrast
from knockseq.de.transform import vst

__all__ = [
    "COMPAT_MODES",
    "DISPERSION_TRENDS",
    "RESULT_COLUMNS",
    "DEResult",
    "FitResult",
    "contrast_results",
    "fit_design",
    "read_fit",
    "run_contrast",
    "vst",
    "write_de",
    "write_fit",
]
