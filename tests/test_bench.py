"""The side-by-side benchmark against R (``bench/compare_r.py``), small version, without timing.

It runs every kind of case once on small inputs, with real R DESeq2 and fgsea processes, and
checks the table it writes: every case and tool has a row with a time, a peak RSS and a ratio,
and knockseq's answers agree with R's in the same run (the numbers are in the agreement column).
No time is asserted: speed lives in ``bench/results/``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import PROJECT, shared_path


def r_baseline() -> None:
    """Skip (fail in CI) unless R with DESeq2 and fgsea is installed."""
    ready = (
        shutil.which("Rscript")
        and subprocess.run(
            ["Rscript", "-e", "suppressMessages({library(DESeq2); library(fgsea)})"], capture_output=True
        ).returncode
        == 0
    )
    if not ready:
        message = "R DESeq2 + fgsea not installed (sudo bash ../shared/vendor/r/install-r-baseline.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


ROW = re.compile(
    r"^\| (\S+) \| ([^|]+) \| ([^|]+) \| ([\d.]+) \[([\d.]+)-([\d.]+)\] \| (\d+) \| ([\d.]+) \| ([^|]*) \|$"
)


def test_quick_benchmark_table(tmp_path):
    r_baseline()
    shared_path("data/airway/counts.tsv.gz")  # checks the shared data's sha256 (and skips without it)
    out = tmp_path / "bench.md"
    result = subprocess.run(
        [sys.executable, str(PROJECT / "bench/compare_r.py"), "--quick", "--repeats", "1", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # the table names the code it measured
    head = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    assert f"made this file from knockseq commit {head.stdout.strip()}" in out.read_text()
    rows = {(m[1], m[3].strip()): m for m in map(ROW.match, out.read_text().splitlines()) if m}
    assert set(rows) == {
        ("airway", "knockseq"),
        ("airway", "R DESeq2"),
        ("airway", "knockseq + apeGLM"),
        ("synthetic_6x2k", "knockseq"),
        ("synthetic_6x2k", "R DESeq2"),
        ("screen_33x1k", "knockseq"),
        ("screen_33x1k", "R DESeq2"),
        ("gsea_hallmark", "knockseq"),
        ("gsea_hallmark", "fgseaMultilevel"),
        ("gsea_hallmark", "fgseaSimple"),
    }
    for (case, tool), row in rows.items():
        assert float(row[4]) > 0 and int(row[7]) > 50, (case, tool)  # a time and a real process's RSS
        if tool in ("R DESeq2", "fgseaMultilevel"):
            assert float(row[8]) == 1.0
    # the same genes at padj < 0.05 as R in each DE case, log2FC within R-agreement tolerances
    for case in ("airway", "synthetic_6x2k", "screen_33x1k"):
        agreement = re.match(
            r"padj<0\.05 Jaccard ([\d.]+) \((\d+) vs (\d+)\); log2FC max diff ([\d.e+-]+)", rows[case, "knockseq"][9]
        )
        assert agreement, rows[case, "knockseq"][9]
        assert float(agreement[1]) == 1.0 and int(agreement[2]) > 0, agreement[0]
    nes = re.match(r"(\d+) sets; NES max diff ([\d.]+)", rows["gsea_hallmark", "knockseq"][9])
    # tests/test_enrichment.py's tolerance for gseapy multilevel against fgseaMultilevel
    assert nes and int(nes[1]) == 50 and float(nes[2]) < 0.06, rows["gsea_hallmark", "knockseq"][9]
    assert (tmp_path / "bench_scaling.png").stat().st_size > 1000
