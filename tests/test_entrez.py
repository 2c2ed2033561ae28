"""A count matrix keyed by NCBI Entrez Gene ids (plain numbers), end to end through the workflow.

GEO's NCBI-generated RNA-seq count tables and Rsubread's inbuilt annotation key genes by Entrez
id. The ids must stay text in every step: ``90`` and ``0090`` are two genes, and no step may turn
``0090`` into ``90`` or ``1`` into ``1.0``.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT

SAMPLES = ["control_1", "control_2", "control_3", "knockdown_1", "knockdown_2", "knockdown_3"]
#: The real Entrez ids of the knockdown targets, so the test reads like a real run.
TARGETS = {"PPP3CA": "5530", "PPP3CB": "5532"}


def entrez_ids(symbols: list[str]) -> dict[str, str]:
    """Made-up but fixed numeric ids for ``symbols``.

    In sorted order the genes get ``1``, ``2`` ..., every number ending in 9 replaced by the
    next number zero-padded to 4 digits (so ``0090`` sits beside ``90`` and ``0100`` beside
    ``100``); the last gene gets ``1000`` and the knockdown targets their real ids.
    """
    numbers = [str(n) if n % 10 != 9 else f"{n + 1:04d}" for n in range(1, len(symbols) + 1)]
    numbers[-1] = "1000"
    ids = dict(zip(sorted(symbols), numbers))
    return ids | TARGETS


def read_htseq(path: Path) -> dict[str, str]:
    """Gene -> count text of an htseq-count file, trailer rows left out."""
    rows = (line.split("\t") for line in path.read_text().splitlines())
    return {gene: count for gene, count in rows if not gene.startswith("__")}


def column(path: Path, name: str) -> list[str]:
    """A column of a tab-separated file exactly as written (no parsing into numbers)."""
    with open(path, newline="") as handle:
        return [row[name] for row in csv.DictReader(handle, delimiter="\t")]


def genes_cited(obj: object) -> list[dict]:
    """Every dict with a ``gene_id`` inside a JSON document."""
    if isinstance(obj, dict):
        return ([obj] if "gene_id" in obj else []) + [g for value in obj.values() for g in genes_cited(value)]
    if isinstance(obj, list):
        return [g for value in obj for g in genes_cited(value)]
    return []


@pytest.fixture(scope="module")
def entrez_run(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """The bundled example re-keyed by Entrez ids: one matrix + an id -> symbol table."""
    workdir = tmp_path_factory.mktemp("entrez")
    counts = {sample: read_htseq(PROJECT / f"example/htseq/{sample}.htseq.txt") for sample in SAMPLES}
    symbols = list(counts[SAMPLES[0]])
    ids = entrez_ids(symbols)
    assert len(set(ids.values())) == len(symbols) and {"1", "90", "0090", "100", "0100", "1000"} <= set(ids.values())
    # GEO's NCBI count table layout (GeneID, then one column per sample) plus a stale Symbol
    # column, which the configured annotation must override.
    lines = ["GeneID\tSymbol\t" + "\t".join(SAMPLES)]
    lines += [f"{ids[gene]}\told_{gene}\t" + "\t".join(counts[s][gene] for s in SAMPLES) for gene in symbols]
    (workdir / "counts.tsv").write_text("\n".join(lines) + "\n")
    (workdir / "genes.tsv").write_text("GeneID\tSymbol\n" + "".join(f"{ids[g]}\t{g}\n" for g in symbols))
    (workdir / "samples.tsv").write_text("sample\tcondition\n" + "".join(f"{s}\t{s.split('_')[0]}\n" for s in SAMPLES))
    (workdir / "my.yaml").write_text(
        "samples: samples.tsv\n"
        "counts: counts.tsv\n"
        "annotation: genes.tsv\n"
        "contrasts:\n"
        "  kd:\n"
        "    test: knockdown\n"
        "    reference: control\n"
        "knockdown: {targets: [PPP3CA, PPP3CB]}\n"
        # The fewest permutations the schema allows: only the ids are under test here.
        "gsea: {permutations: 100}\n"
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(PROJECT / "Snakefile"),
            "--cores",
            "2",
            "--configfile",
            str(workdir / "my.yaml"),
            "--directory",
            str(workdir),
            "results/counts/counts.tsv",
            "results/verdict/kd.json",
            "results/qc/vst_blind.tsv",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert run.returncode == 0, f"snakemake failed:\n{run.stdout[-4000:]}\n{run.stderr[-4000:]}"
    return workdir, ids


def test_counts_keep_entrez_ids_as_written(entrez_run):
    workdir, ids = entrez_run
    counts = workdir / "results/counts/counts.tsv"
    # Sorted as text, each id byte for byte: 0090 and 90 both present, 1 not 1.0.
    assert column(counts, "gene_id") == sorted(ids.values())
    # Named through the annotation table (PPP3CA as 5530 among them), not the matrix's column.
    assert dict(zip(column(counts, "gene_id"), column(counts, "gene_name"))) == {i: g for g, i in ids.items()}
    assert (workdir / "logs/counts.log").read_text().count(
        "gene names from `annotation:` genes.tsv; column 'Symbol' of counts.tsv not used (the configured "
        "annotation wins)."
    ) == 1
    assert column(workdir / "results/qc/vst_blind.tsv", "gene_id") == sorted(ids.values())


def test_de_knockdown_and_verdict_carry_the_same_ids(entrez_run):
    workdir, ids = entrez_run
    de = workdir / "results/de/kd.tsv"
    assert sorted(column(de, "gene_id")) == sorted(ids.values())
    assert dict(zip(column(de, "gene_id"), column(de, "gene_name"))) == {i: g for g, i in ids.items()}
    knockdown = json.loads((workdir / "results/knockdown/kd.json").read_text())
    found = {t["gene_name"]: t["gene_id"] for t in knockdown["targets"]}
    assert found == TARGETS and knockdown["status"] == "effective"
    verdict = json.loads((workdir / "results/verdict/kd.json").read_text())
    assert verdict["verdict"] == "suppressed"
    # Every gene the verdict cites (targets, ER core genes), wherever the JSON nests it.
    cited = {(g.get("gene_name") or g["gene"], g["gene_id"]) for g in genes_cited(verdict) if g.get("in_data", True)}
    assert {("PPP3CA", "5530"), ("PPP3CB", "5532"), ("GREB1", ids["GREB1"])} <= cited
    assert all(ids[name] == gene_id for name, gene_id in cited)
