"""Cluster resources computed from the count table's size, and their config overrides."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import PROJECT

from knockseq.config import config_defaults
from knockseq.io import write_tsv
from knockseq.resources import FIT, JOBSTEP_MIB, VST, CostModel, counts_shape, de_threads, job_resources


def test_counts_shape_reads_header_and_rows(tmp_path):
    table = pd.DataFrame(
        {"gene_id": ["0090", "90", "NM_1.4"], "gene_name": ["A", "B", "NA"], "s1": [1, 2, 3], "s2": [0, 0, 1]}
    )
    write_tsv(table, tmp_path / "counts.tsv")
    assert counts_shape(tmp_path / "counts.tsv") == (2, 3)
    # Before the counts step ran (a dry run): nothing to size yet.
    assert counts_shape(tmp_path / "missing.tsv") == (0, 0)


def test_cost_model_request_arithmetic():
    model = CostModel(base_mib=200, mib_per_kgene=1, mib_per_mcell=100, base_s=30, s_per_kgene=2, s_per_mcell=10)
    # 10 samples x 100,000 genes = 1e6 cells: peak 200 + 100 + 100 = 400 MiB, x 1.5 plus the jobstep.
    assert model.mem_mb(10, 100_000) == 100 * -(-(JOBSTEP_MIB + 600) // 100)
    # 30 + 200 + 10 = 240 s, x 3 = 12 min.
    assert model.runtime(10, 100_000) == 12
    # Small tables get the floor of 10 minutes.
    assert model.runtime(2, 10) == 10


@pytest.mark.parametrize(("samples", "genes", "mem_mb", "runtime"), [(6, 506, 500, 10), (384, 60_000, 5200, 10)])
def test_fit_requests(samples, genes, mem_mb, runtime):
    assert (FIT.mem_mb(samples, genes), FIT.runtime(samples, genes)) == (mem_mb, runtime)


def test_fit_request_covers_the_largest_measured_fit():
    # docs/resources.md: 384 x 60,000 peaked at 3353 MiB in a process of its own
    assert FIT.mem_mb(384, 60_000) * 1e6 / 2**20 > 1.4 * 3353


def test_vst_requests_grow_with_the_table():
    assert VST.mem_mb(6, 20_000) < VST.mem_mb(96, 20_000) < VST.mem_mb(384, 60_000)


def test_config_overrides_replace_the_rules_values_key_by_key():
    config = config_defaults(PROJECT / "workflow/schemas/config.schema.yaml", resources={"fit": {"runtime": 600}})
    computed = lambda wildcards, input: 1  # noqa: E731
    assert job_resources(config["resources"], "fit", mem_mb=computed, runtime=computed) == {
        "mem_mb": computed,
        "runtime": 600,
    }
    assert job_resources(config["resources"], "de", mem_mb=8000, runtime=120) == {"mem_mb": 8000, "runtime": 120}
    # The schema's default is no override at all.
    assert config_defaults(PROJECT / "workflow/schemas/config.schema.yaml")["resources"] == {}


def test_de_threads_one_core_only_for_the_vectorised_pair():
    assert de_threads("r", "batched") == 1
    assert [de_threads(c, e) for c, e in [("r", "pydeseq2"), ("pydeseq2", "batched"), ("pydeseq2", "pydeseq2")]] == [
        2,
        2,
        2,
    ]
