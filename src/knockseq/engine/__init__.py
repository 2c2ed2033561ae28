"""knockseq's DESeq2 engine: R DESeq2's rules on PyDESeq2's objects, vectorised over genes.

Two things on top of PyDESeq2 0.5.4. With ``de.compat: r``, the steps whose numerical rules
differ from R DESeq2 1.38's are replaced by ports of R's code, so the dispersions, p-values and
filter threshold match R's (README, "Statistics: agreement with R's DESeq2"). With
``de.engine: batched``, the GLM fit and the apeGLM shrinkage run for all genes at once: PyDESeq2
fits each gene in its own Python call (tens of thousands of small IRLS loops, optimiser runs and
``scipy.linalg.solve`` calls), and on a few samples that per-call overhead is nearly all of the
time; the rare gene that needs PyDESeq2's optimiser fallback, or whose shrinkage posterior has
two modes, goes back to PyDESeq2's own per-gene code. One module per step:

- :mod:`knockseq.engine.glm`: the IRLS fit of the coefficients (``irls``);
- :mod:`knockseq.engine.dispersions`: gene-wise and MAP dispersions (R's line and grid search);
- :mod:`knockseq.engine.trend`: the parametric dispersion trend;
- :mod:`knockseq.engine.prior`: the variance of the log-dispersion prior, R's simulation included;
- :mod:`knockseq.engine.wald`: the Wald test and Cook's outlier rule;
- :mod:`knockseq.engine.filtering`: independent filtering, R's ``lowess`` and BH;
- :mod:`knockseq.engine.shrink`: the apeGLM MAP of the tested coefficient;
- :mod:`knockseq.engine.cholesky`: the positive definite p x p solves of every gene at once
  (the Wald test's and the shrinkage's);
- :mod:`knockseq.engine.inference`: the PyDESeq2 ``Inference`` classes built on those;
- :mod:`knockseq.engine.rdeseq`: ``RDeseqDataSet`` / ``RDeseqStats``, which wire the steps into
  PyDESeq2's ``DeseqDataSet`` / ``DeseqStats``.
"""

from knockseq.engine.inference import ENGINES, BatchedInference, BatchedRInference, RInference
from knockseq.engine.rdeseq import RDeseqDataSet, RDeseqStats

__all__ = [
    "ENGINES",
    "BatchedInference",
    "BatchedRInference",
    "RDeseqDataSet",
    "RDeseqStats",
    "RInference",
]
