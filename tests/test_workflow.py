"""The workflow end to end on the bundled example, in a scratch copy of the project's config.

One full run is shared by the tests of this module; the others ask Snakemake for a dry-run plan.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import PROJECT

from knockseq.verdict import EARLY, LATE

SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(PROJECT / "Snakefile")]


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*SNAKEMAKE, "--directory", str(workdir), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def planned(workdir: Path, *args: str) -> dict[str, int]:
    """Rule name -> number of jobs Snakemake plans (dry run)."""
    out = snakemake(workdir, "-n", "--quiet", "rules", *args).stdout
    counts: dict[str, int] = {}
    in_table = False
    for line in out.splitlines():
        parts = line.split()
        if parts[:2] == ["job", "count"]:
            in_table = True
            continue
        if in_table and len(parts) == 2 and parts[1].isdigit():
            if parts[0] == "total":
                break
            counts[parts[0]] = int(parts[1])
    return counts


def dry_run_error(workdir: Path) -> str:
    """What a dry run that must fail prints (stderr and stdout)."""
    result = snakemake(workdir, "-n", check=False)
    assert result.returncode != 0
    return result.stderr + result.stdout


def copy_example(dest: Path) -> Path:
    shutil.copytree(PROJECT / "config", dest / "config")
    shutil.copytree(PROJECT / "example", dest / "example")
    return dest


@pytest.fixture(scope="module")
def example_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    workdir = copy_example(tmp_path_factory.mktemp("example"))
    return workdir, snakemake(workdir, "--cores", "2")


def test_example_writes_every_output(example_run):
    workdir, _ = example_run
    counts = pd.read_csv(workdir / "results/counts/counts.tsv", sep="\t")
    assert list(counts.columns[:2]) == ["gene_id", "gene_name"]
    assert counts.shape == (506, 8)
    # htseq-count trailer rows are QC, not genes.
    assert not counts["gene_id"].str.startswith("__").any()
    control_1 = pd.read_csv(PROJECT / "example/htseq/control_1.htseq.txt", sep="\t", header=None, index_col=0)[1]
    assert counts.set_index("gene_id")["control_1"].sum() == control_1[~control_1.index.str.startswith("__")].sum()
    for path in ("de/knockdown_vs_control.tsv", "gsea/knockdown_vs_control.tsv", "ora/knockdown_vs_control.tsv"):
        assert (workdir / "results" / path).stat().st_size > 0
    # One ORA job per dataset; its log names each contrast's DE table and its gene lists' sizes.
    ora = pd.read_csv(workdir / "results/ora/knockdown_vs_control.tsv", sep="\t")
    size = ora.groupby("direction")["n_significant"].first()
    assert size["down"] > 0 and size["up"] > 0
    assert (
        f"results/de/knockdown_vs_control.tsv: ORA of {size['down']} down- and {size['up']} up-regulated genes\n"
        in (workdir / "logs/ora.log").read_text()
    )
    for mode in ("blind", "design"):
        vst = pd.read_csv(workdir / f"results/qc/vst_{mode}.tsv", sep="\t")
        assert list(vst.columns) == list(counts.columns) and len(vst) == 506
        # log2-like scale: ACTB (~20,000-60,000 reads) far above a silent gene (INS, < 3 reads).
        values = vst.set_index("gene_id")
        assert values.loc["ACTB", "control_1"] > 14 and values.loc["INS", "control_1"] < 5


def test_example_knockdown_and_verdict(example_run):
    workdir, run = example_run
    knockdown = json.loads((workdir / "results/knockdown/knockdown_vs_control.json").read_text())
    assert knockdown["status"] == "effective"
    lfc = {t["gene_name"]: t["log2FoldChange"] for t in knockdown["targets"]}
    # Programmed log2FC -2 for both targets; n = 3 per group with dispersion ~0.05.
    assert lfc["PPP3CA"] == pytest.approx(-2, abs=0.4)
    assert lfc["PPP3CB"] == pytest.approx(-2, abs=0.4)
    verdict = json.loads((workdir / "results/verdict/knockdown_vs_control.json").read_text())
    assert (verdict["verdict"], verdict["strength"]) == ("suppressed", "strong")
    # Both readouts offline: the builtin hallmark collection is loaded by default.
    assert [entry["name"] for entry in verdict["provenance"]] == ["er_core", "hallmark"]
    assert verdict["signature"] == {"call": "down", "sets": [EARLY, LATE]}
    assert verdict["direct_targets"]["call"] == "down" and verdict["er_program"]["expressed"]
    # The one-line summary, printed at the end of the run, names both hallmark sets' results.
    line = next(line for line in (run.stdout + run.stderr).splitlines() if line.startswith("knockdown_vs_control:"))
    assert line == verdict["summary"]
    # One job decides every contrast of the dataset; its log has each contrast's line.
    assert f"knockseq INFO: {line}\n" in (workdir / "logs/verdict.log").read_text()
    assert line.startswith("knockdown_vs_control: ER targets SUPPRESSED [strong] (EARLY NES -")
    assert "; LATE NES -" in line and "; direct ER targets down, CAMERA FDR " in line


def test_rerun_has_nothing_to_do(example_run):
    workdir, _ = example_run
    assert planned(workdir) == {}


def test_forced_rerun_is_byte_identical(example_run):
    workdir, _ = example_run
    results = workdir / "results"
    before = {p.relative_to(results): p.read_bytes() for p in sorted(results.rglob("*")) if p.is_file()}
    snakemake(workdir, "--cores", "2", "--forceall")
    after = {p.relative_to(results): p.read_bytes() for p in sorted(results.rglob("*")) if p.is_file()}
    # Fixed float format, sorted rows, seeded GSEA: a rerun can be checked with cmp.
    # 20 step outputs and 41 plot files (figures as PNG, SVG and TSV; the verdict page).
    assert len(before) == 62 and after.keys() == before.keys()
    assert [path for path in before if before[path] != after[path]] == []


def test_config_change_replans_only_downstream_steps(example_run):
    workdir, _ = example_run
    config = workdir / "config/config.yaml"
    edited = workdir / "config/edited.yaml"
    edited.write_text(config.read_text().replace("permutations: 1000", "permutations: 500"))
    # gsea's params changed: gsea and the verdict built on it rerun, nothing upstream.
    plan = planned(workdir, "--configfile", str(edited))
    assert plan.get("gsea") == 1 and plan.get("verdict") == 1
    assert "de" not in plan and "counts" not in plan


def test_sheet_edit_replans_what_depends_on_it(example_run):
    workdir, _ = example_run
    sheet = workdir / "config/samples.tsv"
    sheet.write_text(sheet.read_text().replace("replicate", "rep"))
    # gene_sets reads counts.tsv (a local GMT must share genes with the data), so it reruns too.
    assert planned(workdir) == {
        "all": 1,
        "counts": 1,
        "targets": 1,
        "gene_sets": 1,
        "vst": 2,
        "fit": 1,
        "de": 1,
        "knockdown": 1,
        "gsea": 1,
        "ora": 1,
        "verdict": 1,
        "summary": 1,
        "plots_contrast": 1,
        "plots_fit": 1,
        "plots_qc": 1,
        "verdict_page": 1,
    }


def test_configfile_replaces_the_bundled_config(tmp_path):
    workdir = copy_example(tmp_path)
    my = workdir / "my.yaml"
    my.write_text("samples: config/samples.tsv\ncontrasts:\n  kd_only:\n    test: knockdown\n    reference: control\n")
    out = snakemake(workdir, "-n", "--configfile", str(my)).stdout
    assert "results/verdict/kd_only.json" in out
    # The bundled contrast would survive Snakemake's deep merge if config/config.yaml were read.
    assert "knockdown_vs_control" not in out


def test_bad_sheet_stops_before_any_rule(tmp_path):
    workdir = copy_example(tmp_path)
    sheet = workdir / "config/samples.tsv"
    lines = sheet.read_text().splitlines()
    sheet.write_text("\n".join(lines + [lines[1]]) + "\n")
    assert (
        "config/samples.tsv, row 8, column 'sample': duplicate sample name 'control_1' (first on row 2)."
        in dry_run_error(workdir)
    )


def test_confounded_design_stops_before_any_rule(tmp_path):
    workdir = copy_example(tmp_path)
    sheet = workdir / "config/samples.tsv"
    # Every knockdown on plate 2, every control on plate 1: batch and condition cannot be told apart.
    lines = sheet.read_text().splitlines()
    plates = ["plate"] + ["1" if "control" in line else "2" for line in lines[1:]]
    sheet.write_text("\n".join(f"{line}\t{plate}" for line, plate in zip(lines, plates)) + "\n")
    config = workdir / "config/config.yaml"
    config.write_text(config.read_text().replace("design: []", "design: [plate]"))
    assert (
        "config/samples.tsv, column 'plate': covariate 'plate' is fully confounded with 'condition'"
        in dry_run_error(workdir)
    )


def test_schema_rejects_a_bad_option(tmp_path):
    workdir = copy_example(tmp_path)
    config = workdir / "config/config.yaml"
    config.write_text(config.read_text().replace("compat: r", "compat: R"))
    assert "config/config.yaml: `de.compat` is 'R', not one of r, pydeseq2. Fix: use `r`." in dry_run_error(workdir)


def test_snakemake_lint_is_clean(tmp_path):
    # Snakemake's own linter (CI runs ruff and snakefmt before the tests; this one needs the
    # workflow's environment). Its clean verdict is one line; any lint is listed instead.
    result = snakemake(copy_example(tmp_path), "--lint")
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr, result.stdout
