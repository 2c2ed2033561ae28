"""Several datasets in one run: settings merged and checked before any job, outputs per dataset
equal to single-dataset runs, the run-wide summary, the pooled comparison and reruns."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import PROJECT, shared_path
from test_workflow import snakemake

from knockseq.compare import agreement
from knockseq.datasets import dataset_settings, load_datasets
from knockseq.errors import InputError
from knockseq.meta import random_effects
from knockseq.schema import check_schema

SCHEMA = str(PROJECT / "workflow/schemas/config.schema.yaml")
ANNOTATION = "data/annotation/human_ensembl_gene_names.tsv.gz"


def _settings(config: dict) -> dict:
    check_schema(config, SCHEMA, source="c.yaml")
    return dataset_settings(config, SCHEMA, source="c.yaml")


def _error(config: dict) -> str:
    with pytest.raises(InputError) as excinfo:
        check_schema(config, SCHEMA, source="c.yaml")
        load_datasets(config, SCHEMA, source="c.yaml")
    return str(excinfo.value)


CONTRAST = {"kd": {"test": "knockdown", "reference": "control"}}


def test_a_dataset_takes_the_run_wide_options_and_its_own_over_them():
    settings = _settings(
        {
            "de": {"alpha": 0.05},
            "gsea": {"permutations": 500},
            "design": ["batch"],
            "datasets": {
                "a": {"samples": "a.tsv", "contrasts": CONTRAST},
                "b": {
                    "samples": "b.tsv",
                    "counts": "b.csv",
                    "contrasts": CONTRAST,
                    "design": [],
                    "de": {"shrink": False},
                    "gene_sets": [{"builtin": "er_core"}],
                },
            },
        }
    )
    a, b = settings["a"], settings["b"]
    assert (a["samples"], a["counts"], a["design"], a["gsea"]["permutations"]) == ("a.tsv", None, ["batch"], 500)
    # Sections merge option by option; lists and values replace.
    assert (a["de"]["alpha"], a["de"]["shrink"]) == (0.05, True)
    assert (b["de"]["alpha"], b["de"]["shrink"], b["design"]) == (0.05, False, [])
    assert a["gene_sets"] == [{"builtin": "er_core"}, {"builtin": "hallmark"}]
    assert b["gene_sets"] == [{"builtin": "er_core"}]
    # Schema defaults inside the dataset's own blocks too
    assert b["contrasts"]["kd"]["variable"] == "condition" and b["contrasts"]["kd"]["where"] == {}
    # The run's own options are the run's, in every dataset's settings.
    assert "datasets" not in a and (a["gene_sets_cache"], a["resources"]) == ("resources/gene_sets", {})
    # Without datasets the config is the one dataset, named "".
    single = _settings({"samples": "s.tsv", "contrasts": CONTRAST})
    assert list(single) == [""] and single[""]["samples"] == "s.tsv"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"contrasts": CONTRAST},
            "c.yaml: `samples` is missing. Fix: add `samples:`, or list the run's datasets under `datasets:`.",
        ),
        (
            {"samples": "s.tsv", "datasets": {"a": {"samples": "a.tsv", "contrasts": CONTRAST}}},
            "c.yaml: `samples` is set at the top level, and `datasets:` is set too. Fix: move `samples:` into each "
            "dataset under `datasets:` (each dataset has its own).",
        ),
        (
            {"datasets": {"a": {"samples": "a.tsv", "contrasts": CONTRAST, "resources": {}}}},
            "c.yaml: `datasets.a.resources` is an option of the whole run. Fix: set `resources:` at the top level of "
            "the config, outside `datasets:`.",
        ),
        (
            {"datasets": {"summary": {"samples": "a.tsv", "contrasts": CONTRAST}}},
            "c.yaml: dataset name 'summary' is taken by the run's own results/summary/ folder. Fix: rename the dataset.",
        ),
        (
            {"datasets": {"a/b": {"samples": "a.tsv", "contrasts": CONTRAST}}},
            "c.yaml: name 'a/b' in `datasets` is not allowed. Fix: rename it: a dataset name starts with a letter or "
            "digit and has only letters, digits, ., _ and - (it names its results folder).",
        ),
        (
            {"datasets": {"a": {"samples": "a.tsv", "contrasts": {"kd": {"test": "knockdown"}}}}},
            "c.yaml: `datasets.a.contrasts.kd.reference` is missing. Fix: add `reference:` (a text value).",
        ),
        ({"datasets": {"a": {"samples": "a.tsv", "contrast": CONTRAST}}}, "c.yaml: unknown key `datasets.a.contrast`."),
        (
            {"datasets": {"a": {"samples": "a.tsv", "contrasts": CONTRAST, "de": {"alpah": 0.1}}}},
            "c.yaml: unknown key `datasets.a.de.alpah`. Fix: rename it to `alpha`, the closest valid key",
        ),
        (
            {"datasets": {"a": {"samples": "a.tsv", "contrasts": CONTRAST}}, "compare": {"g": ["a/kd"]}},
            "c.yaml: `compare.g` is empty.",
        ),
        (
            {"datasets": {"a": {"samples": "a.tsv", "contrasts": CONTRAST}}, "compare": {"g": ["a/kd", "a-kd"]}},
            "c.yaml: `compare.g[2]` is 'a-kd', not a member written DATASET/CONTRAST.",
        ),
    ],
)
def test_mistakes_stop_the_run_naming_the_key(config, message):
    with pytest.raises(InputError) as excinfo:
        _settings(config)
    assert str(excinfo.value).startswith(message)


def _shared_project(tmp_path: Path) -> tuple[dict, Path]:
    """A two-dataset config of shared files (sheets written here), and its folder."""
    sim = tmp_path / "sim.tsv"
    quant = shared_path("data/quantifiers/htseq")
    rows = [
        f"{s}\t{s.rsplit('_', 1)[0]}\t{quant / f'{s}.htseq.txt'}"
        for s in ("control_1", "control_2", "control_3", "knockdown_1", "knockdown_2", "knockdown_3")
    ]
    sim.write_text("sample\tcondition\tquant\n" + "\n".join(rows) + "\n")
    config = {
        "datasets": {
            "mcf7": {
                "samples": str(shared_path("data/mcf7_e2/samples.tsv")),
                "counts": str(shared_path("data/mcf7_e2/1_counts_file.csv")),
                "annotation": str(shared_path(ANNOTATION)),
                "contrasts": {"E2_vs_control": {"test": "E2", "reference": "control"}},
            },
            "sim": {
                "samples": str(sim),
                "annotation": str(shared_path("data/quantifiers/reference/genes.gtf.gz")),
                "contrasts": {"kd": {"test": "knockdown", "reference": "control"}},
            },
        },
    }
    return config, tmp_path


def test_compare_members_must_exist(tmp_path):
    config, _ = _shared_project(tmp_path)
    assert _error({**config, "compare": {"g": ["mcf7/E2_vs_control", "mcf8/kd"]}}) == (
        "c.yaml: `compare.g` lists 'mcf8/kd', but there is no dataset 'mcf8'. Fix: use one of the datasets: mcf7, sim."
    )
    config, _ = _shared_project(tmp_path)
    assert _error({**config, "compare": {"g": ["mcf7/E2_vs_control", "sim/E2_vs_control"]}}) == (
        "c.yaml: `compare.g` lists 'sim/E2_vs_control', but dataset 'sim' has no contrast "
        "'E2_vs_control'. Fix: use one of its contrasts: kd."
    )
    single = {"samples": config["datasets"]["sim"]["samples"], "contrasts": CONTRAST, "compare": {"g": ["a/b", "c/d"]}}
    assert _error(single) == (
        "c.yaml: `compare:` is set without `datasets:`. Fix: list the run's datasets under "
        "`datasets:`, or remove `compare:`."
    )


def test_a_dataset_problem_names_the_dataset(tmp_path):
    config, _ = _shared_project(tmp_path)
    config["datasets"]["mcf7"]["contrasts"]["E2_vs_control"]["reference"] = "vehicle"
    assert _error(config).startswith(
        f"{shared_path('data/mcf7_e2/samples.tsv')}, column 'condition': dataset 'mcf7': contrast 'E2_vs_control': "
        "the reference level 'vehicle'"
    )


def test_groups_agree_when_every_member_got_the_same_verdict():
    assert agreement(["suppressed", "suppressed"]) == "agree"
    assert agreement(["suppressed", "inconclusive", "suppressed"]) == "partly inconclusive"
    assert agreement(["suppressed", "activated"]) == "disagree"
    assert agreement(["suppressed", "unchanged", "inconclusive"]) == "disagree"


# --- the workflow over three datasets ---------------------------------------------------------

THREE = {
    "mcf7": {"contrasts": {"E2_vs_control": {"test": "E2", "reference": "control"}}},
    "t47d": {
        "contrasts": {
            "E2_vs_vehicle_WT": {"test": "E2", "reference": "vehicle", "where": {"mutation": "WT"}},
            "E2_vs_vehicle_Y537S": {"test": "E2", "reference": "vehicle", "where": {"mutation": "Y537S"}},
        }
    },
    "sim": {
        "contrasts": {"calcineurin_kd": {"test": "knockdown", "reference": "control", "targets": ["PPP3CA", "PPP3CB"]}}
    },
}
COMPARE = {"estradiol": ["mcf7/E2_vs_control", "t47d/E2_vs_vehicle_WT", "t47d/E2_vs_vehicle_Y537S"]}


def _three(workdir: Path) -> dict:
    """MCF-7 estradiol, T-47D estradiol in WT and Y537S cells (16 of its 24 samples), the
    simulated knockdown; sheets written into ``workdir``, data read from ../shared."""
    workdir.mkdir(parents=True, exist_ok=True)
    quant = shared_path("data/quantifiers/htseq")
    rows = [
        f"{s}\t{s.rsplit('_', 1)[0]}\t{quant / f'{s}.htseq.txt'}"
        for s in ("control_1", "control_2", "control_3", "knockdown_1", "knockdown_2", "knockdown_3")
    ]
    (workdir / "sim.tsv").write_text("sample\tcondition\tquant\n" + "\n".join(rows) + "\n")
    t47d = pd.read_csv(shared_path("data/t47d_e2/samples.tsv"), sep="\t", dtype=str)
    t47d[t47d["mutation"].isin(["WT", "Y537S"])].to_csv(workdir / "t47d.tsv", sep="\t", index=False)
    annotation = str(shared_path(ANNOTATION))
    inputs = {
        "mcf7": {
            "samples": str(shared_path("data/mcf7_e2/samples.tsv")),
            "annotation": annotation,
            "counts": str(shared_path("data/mcf7_e2/1_counts_file.csv")),
        },
        "t47d": {
            "samples": "t47d.tsv",
            "counts": str(shared_path("data/t47d_e2/counts.tsv.gz")),
            "annotation": annotation,
        },
        "sim": {"samples": "sim.tsv", "annotation": str(shared_path("data/quantifiers/reference/genes.gtf.gz"))},
    }
    return {name: {**inputs[name], **THREE[name]} for name in THREE}


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> tuple[Path, str, dict[str, Path]]:
    """The three datasets in one run, and each in a run of its own (the same settings)."""
    multi = tmp_path_factory.mktemp("three")
    blocks = _three(multi)
    (multi / "three.yaml").write_text(yaml.safe_dump({"datasets": blocks, "compare": COMPARE}, sort_keys=False))
    run = snakemake(multi, "--cores", "2", "--configfile", str(multi / "three.yaml"))
    singles = {}
    for name, block in blocks.items():
        single = tmp_path_factory.mktemp(name)
        _three(single)
        (single / "c.yaml").write_text(yaml.safe_dump(block))
        snakemake(single, "--cores", "2", "--configfile", str(single / "c.yaml"))
        singles[name] = single
    return multi, run.stdout + run.stderr, singles


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_dataset_writes_what_a_run_of_its_own_writes(three):
    multi, _, singles = three
    for name, single in singles.items():
        alone, together = _files(single / "results"), _files(multi / "results" / name)
        assert together.keys() == alone.keys(), name
        assert [path for path in alone if alone[path] != together[path]] == [], name
        assert len(alone) > 50


def test_the_run_wide_summary_spans_every_dataset(three):
    multi, output, _ = three
    table = pd.read_csv(multi / "results/summary/verdicts.tsv", sep="\t")
    assert list(table.columns[:4]) == ["dataset", "contrast", "verdict", "strength"]
    assert table[["dataset", "contrast", "verdict"]].values.tolist() == [
        ["mcf7", "E2_vs_control", "activated"],
        ["t47d", "E2_vs_vehicle_WT", "activated"],
        ["t47d", "E2_vs_vehicle_Y537S", "activated"],
        ["sim", "calcineurin_kd", "suppressed"],
    ]
    # Rows keyed by symbol: Ensembl-keyed and symbol-keyed datasets share the ER core columns.
    assert table["log2FC_GREB1"].notna().all()
    # Each row is, as written, the row of the dataset's own summary.
    text = pd.read_csv(multi / "results/summary/verdicts.tsv", sep="\t", dtype=str, keep_default_na=False)
    for (dataset, contrast), row in text.set_index(["dataset", "contrast"]).iterrows():
        own = pd.read_csv(
            multi / f"results/{dataset}/summary/verdicts.tsv", sep="\t", dtype=str, keep_default_na=False
        ).set_index("contrast")
        assert row.to_dict() == own.loc[contrast].to_dict()
    heatmap = pd.read_csv(multi / "results/summary/er_targets_heatmap.tsv", sep="\t")
    assert list(heatmap.columns) == [
        "gene",
        "mcf7/E2_vs_control",
        "t47d/E2_vs_vehicle_WT",
        "t47d/E2_vs_vehicle_Y537S",
        "sim/calcineurin_kd",
    ]
    forest = pd.read_csv(multi / "results/summary/forest.tsv", sep="\t")
    assert forest["label"].tolist() == [*heatmap.columns[1:], "estradiol (pooled)"]
    assert "mcf7/E2_vs_control: ER targets ACTIVATED [strong]" in output
    page = (multi / "results/summary/verdicts.rst").read_text()
    assert page.index("estradiol: the 3 contrasts agree") < page.index("mcf7/E2\\_vs\\_control: ACTIVATED")


def test_the_estradiol_group_is_pooled_by_random_effects(three):
    multi, output, _ = three
    members = pd.read_csv(multi / "results/summary/compare_members.tsv", sep="\t")
    assert members[["dataset", "contrast", "verdict"]].values.tolist() == [
        ["mcf7", "E2_vs_control", "activated"],
        ["t47d", "E2_vs_vehicle_WT", "activated"],
        ["t47d", "E2_vs_vehicle_Y537S", "activated"],
    ]
    for _, member in members.iterrows():
        verdict = json.loads((multi / f"results/{member['dataset']}/verdict/{member['contrast']}.json").read_text())
        effect = verdict["direct_targets"]["effect"]
        assert (member["direct_mean_log2FC"], member["direct_se"]) == pytest.approx(
            (effect["mean_log2FoldChange"], effect["se"]), rel=1e-9
        )
        assert member["EARLY_NES"] == pytest.approx(verdict["gene_sets"]["HALLMARK_ESTROGEN_RESPONSE_EARLY"]["NES"])
    (group,) = pd.read_csv(multi / "results/summary/compare.tsv", sep="\t").to_dict(orient="records")
    expected = random_effects(members["direct_mean_log2FC"].to_numpy(), members["direct_se"].to_numpy() ** 2)
    # REML as metafor's (tests/test_meta.py); measured: 1.06 [0.29, 1.84], I2 84%, tau2 0.36 -
    # Y537S cells answer estradiol far less (their receptor is active without it).
    assert (
        group["pooled_log2FC"],
        group["pooled_ci_low"],
        group["pooled_ci_high"],
        group["I2"],
        group["tau2"],
    ) == pytest.approx((expected.estimate, expected.ci_low, expected.ci_high, expected.i2, expected.tau2), rel=1e-8)
    assert group["pooled_log2FC"] == pytest.approx(1.06, abs=0.01) and group["I2"] == pytest.approx(84.3, abs=0.5)
    assert (group["agreement"], group["n_pooled"]) == ("agree", 3)
    assert group["line"] == (
        "estradiol: the 3 contrasts agree (3 activated); pooled direct ER targets log2FC 1.06 [0.29, 1.84] "
        "(random effects, 3 contrasts, I2 84%, tau2 0.361): their effects differ in size"
    )
    assert group["line"] in output


def test_the_report_opens_on_every_dataset_and_the_pooled_line(three):
    multi, _, _ = three
    snakemake(multi, "--configfile", str(multi / "three.yaml"), "--report", "report.html")
    page = (multi / "report.html").read_text()
    # The first page (workflow.rst with results/summary/verdicts.rst) is rendered into the page;
    # the run-wide figures are embedded.
    for text in (
        "estradiol: the 3 contrasts agree (3 activated)",
        "t47d/E2_vs_vehicle_Y537S",
        "sim/calcineurin_kd: SUPPRESSED",
        "results/summary/forest.png",
        "results/summary/er_targets_heatmap.png",
        "results/t47d/plots/E2_vs_vehicle_WT/volcano.png",
    ):
        assert text in page or text.replace("_", "\\_") in page, text


def test_a_dataset_added_or_edited_reruns_only_its_jobs(three, tmp_path):
    multi, _, _ = three
    work = tmp_path / "work"
    shutil.copytree(multi, work, symlinks=True)
    assert planned_outputs(work, "three.yaml") == set()
    blocks = yaml.safe_load((work / "three.yaml").read_text())["datasets"]
    # A fourth dataset: its own jobs and the run-wide summary, nothing of the others.
    blocks["mcf7_again"] = blocks["mcf7"]
    (work / "four.yaml").write_text(yaml.safe_dump({"datasets": blocks, "compare": COMPARE}, sort_keys=False))
    outputs = planned_outputs(work, "four.yaml")
    assert {path.split("/")[1] for path in outputs} == {"mcf7_again", "summary"}
    assert "results/mcf7_again/de/fits/condition-control-97a56ed7.pkl" in outputs
    # One dataset's sheet edited: that dataset is redone and the run-wide summary, the others not.
    sheet = work / "t47d.tsv"
    sheet.write_text(sheet.read_text().replace("\trep4\n", "\trep4b\n"))
    assert {path.split("/")[1] for path in planned_outputs(work, "three.yaml")} == {"t47d", "summary"}


def planned_outputs(workdir: Path, configfile: str) -> set[str]:
    """Every output path Snakemake plans to write (dry run), but the target rule's."""
    run = snakemake(workdir, "--configfile", str(workdir / configfile), "-n")
    outputs = set()
    for line in run.stdout.splitlines():
        if line.strip().startswith("output:"):
            outputs |= {path.strip().removesuffix(" (update)") for path in line.split(":", 1)[1].split(",")}
    return outputs
