"""Cases about the config file, the design and contrasts, the annotation and the gene sets."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from badinputs.harness import Case, edit_config, read_sheet, write_sheet

CONTRAST = "knockdown_vs_control"
CONFIG = "config/config.yaml"


def _config(**changes: Any) -> Callable[[Path], None]:
    """Setup: set top-level config keys."""
    return lambda project: edit_config(project, **changes)


def _section(section: str, **changes: Any) -> Callable[[Path], None]:
    """Setup: set keys inside one config section (``gsea``, ``de`` ...)."""

    def setup(project: Path) -> None:
        config = yaml.safe_load((project / CONFIG).read_text())
        edit_config(project, **{section: {**config[section], **changes}})

    return setup


def _contrast(**changes: Any) -> Callable[[Path], None]:
    """Setup: change keys of the bundled contrast (a value of None removes the key)."""

    def setup(project: Path) -> None:
        config = yaml.safe_load((project / CONFIG).read_text())
        spec = {**config["contrasts"][CONTRAST], **changes}
        edit_config(project, contrasts={CONTRAST: {k: v for k, v in spec.items() if v is not None}})

    return setup


def _sheet_column(name: str, values: list[str], design: list[str]) -> Callable[[Path], None]:
    """Setup: add a covariate column to the sheet (one value per sample) and put it in the design."""

    def setup(project: Path) -> None:
        rows = read_sheet(project)
        write_sheet(project, [row + [value] for row, value in zip(rows, [name, *values])])
        edit_config(project, design=design)

    return setup


def _file(name: str, content: str | bytes, key: str, as_gene_set: bool = False) -> Callable[[Path], None]:
    """Setup: write ``config/NAME`` and point ``key`` (annotation, or a gmt gene-set source) at it."""

    def setup(project: Path) -> None:
        path = project / "config" / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        value: Any = f"config/{name}"
        if as_gene_set:
            value = [{"builtin": "er_core"}, {"gmt": f"config/{name}"}]
        edit_config(project, **{key: value})

    return setup


def _annotation(name: str, content: str) -> Callable[[Path], None]:
    return _file(name, content, "annotation")


def _gmt(content: str | bytes, name: str = "mine.gmt") -> Callable[[Path], None]:
    return _file(name, content, "gene_sets", as_gene_set=True)


def _raw_config(head: str) -> Callable[[Path], None]:
    """Setup: the config file as written text: ``head`` first, then the rest of the bundled config
    without its contrasts (so line numbers in messages are those of ``head``)."""

    def setup(project: Path) -> None:
        config = yaml.safe_load((project / CONFIG).read_text())
        del config["contrasts"]
        (project / CONFIG).write_text(head + yaml.safe_dump(config, sort_keys=False))

    return setup


def _several_mistakes(project: Path) -> None:
    """Setup: a misspelt level and a GMT path with a typo, found together in one run."""
    (project / "config" / "mine.gmt").write_text("MINE\tna\tGREB1\tPGR\tTFF1\n")
    edit_config(
        project,
        gene_sets=[{"builtin": "er_core"}, {"gmt": "config/mine.gtm"}],
        contrasts={CONTRAST: {"test": "Knockdown", "reference": "control", "targets": ["PPP3CA"]}},
    )


#: Symbols of the bundled example with their Entrez and Ensembl ids.
GENES = {
    "PPP3CA": ("5530", "ENSG00000138814"),
    "PPP3CB": ("5532", "ENSG00000107758"),
    "ESR1": ("2099", "ENSG00000091831"),
    "GREB1": ("9687", "ENSG00000196208"),
}

FIX_EVAL = "Fix: correct it; nothing in the config is evaluated, so formulas, expressions and code are refused."
VALID_GSEA = "valid keys of gsea: max_size, method, min_size, permutations, ranking, seed"

CASES = [
    # ---- the config file: keys, types, ranges -------------------------------------------------
    Case(
        "config-duplicate-key",
        "Config",
        "a contrast name written twice",
        _raw_config(
            f"contrasts:\n  {CONTRAST}: {{test: knockdown, reference: control}}\n"
            f"  {CONTRAST}: {{test: control, reference: knockdown}}\n"
        ),
        f"config/config.yaml, row 3: key `{CONTRAST}` is written twice in one mapping (lines 2 and 3); YAML would "
        "keep only the last one. Fix: keep one of them (merge their settings, or rename one: e.g. two contrasts need "
        "two names).",
        "parse",
    ),
    Case(
        "config-not-yaml",
        "Config",
        "a config that is not valid YAML",
        _raw_config(f"contrasts:\n  {CONTRAST}: {{test: knockdown, reference: control\n"),
        "config/config.yaml, row 3: not valid YAML: expected ',' or '}', but got ':' (while parsing a flow "
        "mapping). Fix: correct the YAML at that line (indent with spaces, never tabs; quote values holding ': ' or "
        "'#').",
        "parse",
    ),
    Case(
        "config-several-mistakes",
        "Config",
        "several mistakes at once (a misspelt level, a GMT path with a typo)",
        _several_mistakes,
        "knockseq: 2 problems:\n"
        "1. config/mine.gtm: file not found (config key `gene_sets[2].gmt`). Fix: set `gmt:` of gene_sets entry 2 in "
        "config/config.yaml to a GMT file (did you mean config/mine.gmt?); relative paths start from the folder "
        "snakemake runs in.\n"
        f"2. config/samples.tsv, column 'condition': contrast '{CONTRAST}': the test level 'Knockdown' of 'condition' "
        f"has no samples (levels present: 'control', 'knockdown'). Fix: set contrasts.{CONTRAST}.test to 'knockdown'.",
        "parse",
    ),
    Case(
        "config-unknown-key",
        "Config",
        "a misspelt top-level option",
        _config(anotation=None),
        "config/config.yaml: unknown key `anotation`. Fix: rename it to `annotation`, the closest valid key "
        "(valid keys: annotation, compare, contrasts, counts, counts_from_abundance, datasets, de, design, format, "
        "gene_sets, gene_sets_cache, gsea, knockdown, ora, plots, resources, samples, strandedness, tx2gene, verdict).",
        "parse",
    ),
    Case(
        "config-unknown-nested-key",
        "Config",
        "a misspelt option inside a section",
        _section("gsea", permutation=1000),
        f"config/config.yaml: unknown key `gsea.permutation`. Fix: rename it to `permutations`, the closest valid "
        f"key ({VALID_GSEA}).",
        "parse",
    ),
    Case(
        "config-unknown-contrast-key",
        "Config",
        "a misspelt key in a contrast",
        _contrast(tagets=["PPP3CA"]),
        f"config/config.yaml: unknown key `contrasts.{CONTRAST}.tagets`. Fix: rename it to `targets`, the closest "
        f"valid key (valid keys of contrasts.{CONTRAST}: reference, targets, test, variable, where).",
        "parse",
    ),
    Case(
        "config-unknown-resources-rule",
        "Config",
        "resources for a rule that does not exist",
        _config(resources={"fitt": {"mem_mb": 64000}}),
        "config/config.yaml: unknown key `resources.fitt`. Fix: rename it to `fit` (valid keys of resources: "
        "counts, fit, de, vst, gsea).",
        "parse",
    ),
    Case(
        "config-wrong-type",
        "Config",
        "text where a number belongs",
        _section("gsea", permutations="many"),
        "config/config.yaml: `gsea.permutations` is 'many', not a whole number. Fix: set `gsea.permutations` to a "
        "whole number >= 100 (default 1000).",
        "parse",
    ),
    Case(
        "config-wrong-boolean",
        "Config",
        "yes/no text where true/false belongs",
        _section("de", cooks="yes"),
        "config/config.yaml: `de.cooks` is 'yes', not true or false. Fix: set `de.cooks` to true or false "
        "(default true).",
        "parse",
    ),
    Case(
        "config-design-not-list",
        "Config",
        "design given as one word instead of a list",
        _config(design="batch"),
        "config/config.yaml: `design` is 'batch', not a list ([a, b]). Fix: set `design` to a list ([a, b]).",
        "parse",
    ),
    Case(
        "config-threshold-out-of-range",
        "Config",
        "an FDR threshold above 1",
        _section("verdict", fdr=1.5),
        "config/config.yaml: `verdict.fdr` is 1.5, out of range. Fix: set it to a number > 0 and < 1 (default 0.05).",
        "parse",
    ),
    Case(
        "config-too-few-permutations",
        "Config",
        "fewer GSEA permutations than allowed",
        _section("gsea", permutations=10),
        "config/config.yaml: `gsea.permutations` is 10, out of range. Fix: set it to a whole number >= 100 "
        "(default 1000).",
        "parse",
    ),
    Case(
        "config-knockdown-thresholds-disordered",
        "Config",
        "effective knockdown threshold above the weak one",
        _section("knockdown", effective_max_remaining=90),
        "column 'knockdown.effective_max_remaining': knockdown thresholds must satisfy 0 < "
        "effective_max_remaining (90) <= weak_max_remaining (80) <= 100. Fix: set effective_max_remaining at "
        "or below weak_max_remaining.",
        "parse",
    ),
    Case(
        "config-enum-case",
        "Config",
        "an option value in the wrong case",
        _section("de", compat="R"),
        "config/config.yaml: `de.compat` is 'R', not one of r, pydeseq2. Fix: use `r`.",
        "parse",
    ),
    Case(
        "config-no-contrasts",
        "Config",
        "no contrast configured",
        _config(contrasts={}),
        "config/config.yaml: `contrasts` is empty. Fix: give one entry per comparison, at least one: NAME: "
        "{test: LEVEL, reference: LEVEL}.",
        "parse",
    ),
    Case(
        "config-contrast-without-reference",
        "Config",
        "a contrast without its reference level",
        _contrast(reference=None),
        f"config/config.yaml: `contrasts.{CONTRAST}.reference` is missing. Fix: add `reference:` (a text value).",
        "parse",
    ),
    Case(
        "config-gene-set-kind-misspelt",
        "Config",
        "a gene-set source whose kind is misspelt",
        _config(gene_sets=[{"gtm": "config/h.gmt"}]),
        "config/config.yaml: `gene_sets[1]` names gtm: a gene set source has exactly one of builtin, gmt, msigdb. "
        "Fix: rename `gtm` to `gmt`; write it as {builtin: er_core}, {gmt: PATH} or {msigdb: h, version: "
        "2024.1.Hs}.",
        "parse",
    ),
    Case(
        "config-msigdb-version",
        "Config",
        "an MSigDB release without its species",
        _config(gene_sets=[{"msigdb": "h", "version": "2024.1"}]),
        f"config/config.yaml: `gene_sets[1].version` is '2024.1', not an MSigDB release such as 2024.1.Hs or "
        f"2024.1.Mm. {FIX_EVAL}",
        "parse",
    ),
    # ---- code in the config: refused by the parser, never run ------------------------------------
    Case(
        "config-design-code",
        "Config",
        "Python code as a design term",
        _config(design=["__import__('os').system('touch pwned')"]),
        "config/config.yaml: `design[1]` is \"__import__('os').system('touch pwned')\", not a sample-sheet column "
        f"name (a letter, then letters, digits or _). {FIX_EVAL}",
        "parse",
    ),
    Case(
        "config-variable-formula",
        "Config",
        "a formula as the tested variable",
        _contrast(variable="condition + replicate"),
        f"config/config.yaml: `contrasts.{CONTRAST}.variable` is 'condition + replicate', not a sample-sheet column "
        f"name (a letter, then letters, digits or _). {FIX_EVAL}",
        "parse",
    ),
    Case(
        "config-where-query-string",
        "Config",
        "a pandas query string as `where`",
        _contrast(where="condition == 'knockdown' or @os.system('touch pwned')"),
        f"config/config.yaml: `contrasts.{CONTRAST}.where` is \"condition == 'knockdown' or "
        "@os.system('touch pwned')\", not a mapping ({key: value}). Fix: write where as {column: value} or "
        "{column: [values]}; it is never evaluated as an expression.",
        "parse",
    ),
    Case(
        "config-where-code-column",
        "Config",
        "Python code as a `where` column",
        _contrast(where={"__import__('os').system('touch pwned')": "x"}),
        f"column 'contrasts.{CONTRAST}.where': '__import__('os').system('touch pwned')' in contrasts.{CONTRAST}.where "
        "is not a plain column name. Fix: give sheet column names only (a letter, then letters, digits or _), "
        "not formulas or expressions.",
        "parse",
    ),
    Case(
        "config-where-backticks",
        "Config",
        "a shell command in backticks as a `where` value",
        _contrast(where={"condition": "`touch pwned`"}),
        f"config/samples.tsv, column 'condition': contrast '{CONTRAST}': where filter condition = '`touch pwned`' "
        f"matches no sample (values present: 'control', 'knockdown'). Fix: use a value of column 'condition' in "
        f"contrasts.{CONTRAST}.where.",
        "parse",
    ),
    # ---- paths that do not exist ---------------------------------------------------------------
    Case(
        "path-samples",
        "Config",
        "`samples:` names a file that does not exist",
        _config(samples="config/sampels.tsv"),
        "config/sampels.tsv: sample sheet not found. Fix: set `samples:` in the config to an existing TSV file.",
        "parse",
    ),
    Case(
        "path-counts",
        "Config",
        "`counts:` names a file that does not exist",
        _config(counts="counts.tsv"),
        "counts.tsv: file not found (config key `counts`). Fix: set `counts:` in config/config.yaml to the count "
        "table (or null to read each sample's `quant` file); relative paths start from the folder snakemake "
        "runs in.",
        "parse",
    ),
    Case(
        "path-annotation",
        "Config",
        "`annotation:` names a file that does not exist",
        _config(annotation="ref/genes.gtf"),
        "ref/genes.gtf: file not found (config key `annotation`). Fix: set `annotation:` in config/config.yaml to "
        "a GTF or a gene_id<TAB>gene_name table (or null); relative paths start from the folder snakemake runs in.",
        "parse",
    ),
    Case(
        "path-tx2gene",
        "Config",
        "`tx2gene:` names a file that does not exist",
        _config(tx2gene="tx2gene.tsv"),
        "tx2gene.tsv: file not found (config key `tx2gene`). Fix: set `tx2gene:` in config/config.yaml to a GTF "
        "or a transcript_id<TAB>gene_id table (or null); relative paths start from the folder snakemake runs in.",
        "parse",
    ),
    Case(
        "path-gmt",
        "Config",
        "a `gmt:` gene-set file that does not exist",
        _config(gene_sets=[{"builtin": "er_core"}, {"gmt": "h.all.v2024.1.Hs.symbols.gmt"}]),
        "h.all.v2024.1.Hs.symbols.gmt: file not found (config key `gene_sets[2].gmt`). Fix: set `gmt:` of "
        "gene_sets entry 2 in config/config.yaml to a GMT file; relative paths start from the folder snakemake "
        "runs in.",
        "parse",
    ),
    # ---- contrasts and the design --------------------------------------------------------------
    Case(
        "contrast-unknown-level",
        "Contrasts and design",
        "a test level not in the sheet",
        _contrast(test="knockdwn"),
        f"config/samples.tsv, column 'condition': contrast '{CONTRAST}': the test level 'knockdwn' of 'condition' "
        f"has no samples (levels present: 'control', 'knockdown'). Fix: set contrasts.{CONTRAST}.test to a level "
        "present in column 'condition'.",
        "parse",
    ),
    Case(
        "contrast-same-levels",
        "Contrasts and design",
        "test and reference are the same level",
        _contrast(test="control"),
        f"column 'contrasts.{CONTRAST}.test': contrast '{CONTRAST}': test and reference are both 'control'. Fix: "
        "set test and reference to two different levels of 'condition'.",
        "parse",
    ),
    Case(
        "contrast-where-selects-nothing",
        "Contrasts and design",
        "a `where` value no sample has",
        _contrast(where={"replicate": "7"}),
        f"config/samples.tsv, column 'replicate': contrast '{CONTRAST}': where filter replicate = '7' matches no "
        f"sample (values present: '1', '2', '3'). Fix: use a value of column 'replicate' in "
        f"contrasts.{CONTRAST}.where.",
        "parse",
    ),
    Case(
        "contrast-where-drops-a-group",
        "Contrasts and design",
        "a `where` that leaves out the test group",
        _contrast(where={"condition": "control"}),
        f"config/samples.tsv, column 'condition': contrast '{CONTRAST}': the test level 'knockdown' of 'condition' "
        "has no samples after the where filter (levels present: 'control'). Fix: set "
        f"contrasts.{CONTRAST}.test to a level present in column 'condition', or widen the where filter.",
        "parse",
    ),
    Case(
        "contrast-variable-not-a-column",
        "Contrasts and design",
        "the tested variable is not a sheet column",
        _contrast(variable="genotype"),
        f"config/samples.tsv, column 'genotype': contrasts.{CONTRAST}.variable names column 'genotype', which the "
        "sample sheet does not have (columns: 'condition', 'replicate', 'quant'). Fix: add a 'genotype' column to "
        f"the sample sheet, or correct the name in contrasts.{CONTRAST}.variable.",
        "parse",
    ),
    Case(
        "design-not-a-column",
        "Contrasts and design",
        "a design covariate that is not a sheet column",
        _config(design=["batch"]),
        "config/samples.tsv, column 'batch': design names column 'batch', which the sample sheet does not have "
        "(columns: 'condition', 'replicate', 'quant'). Fix: add a 'batch' column to the sample sheet, or correct "
        "the name in design.",
        "parse",
    ),
    Case(
        "design-confounded",
        "Contrasts and design",
        "a covariate confounded with the contrast",
        _sheet_column("plate", ["p1", "p1", "p1", "p2", "p2", "p2"], ["plate"]),
        "config/samples.tsv, column 'plate': covariate 'plate' is fully confounded with 'condition': each level of "
        "'plate' holds samples of a single 'condition' level (p1: control; p2: knockdown), so the 'condition' "
        "effect cannot be separated from 'plate'. Fix: add samples that put both 'condition' groups in one "
        "'plate' level, or remove 'plate' from the config's design list, knowing that the comparison is then not "
        "adjusted for it and a 'plate' effect can pass for a 'condition' effect.",
        "parse",
    ),
    Case(
        "design-no-residual-df",
        "Contrasts and design",
        "as many coefficients as samples",
        _sheet_column("well", ["a", "b", "c", "a", "d", "e"], ["well"]),
        "config/samples.tsv: the design ~ well + condition has 6 coefficients for 6 samples: no residual degrees "
        "of freedom are left to estimate dispersions. Fix: remove covariates from the config's design list, or "
        "add samples.",
        "parse",
    ),
    # ---- knockdown targets: checked against the count table before any fit ----------------------
    Case(
        "target-misspelt",
        "Knockdown targets",
        "a knockdown target misspelt",
        _contrast(targets=["PPP3CA", "PPP3CX"]),
        f"column 'contrasts.{CONTRAST}.targets': knockdown target 'PPP3CX' of contrast '{CONTRAST}' is neither a "
        "gene id nor a gene name of results/counts/counts.tsv. Close gene names: PPP3CC, PPP3CB, PPP3CA. "
        "Fix: give the target's symbol exactly as the data name it (case matters) or its gene id, in the "
        "contrast's targets (or knockdown.targets).",
        "targets",
    ),
    Case(
        "target-lower-case",
        "Knockdown targets",
        "a knockdown target in lower case",
        _contrast(targets=["ppp3ca"]),
        f"column 'contrasts.{CONTRAST}.targets': knockdown target 'ppp3ca' of contrast '{CONTRAST}' is neither a "
        "gene id nor a gene name of results/counts/counts.tsv. Close gene names: PPP3CA. Fix: give the target's "
        "symbol exactly as the data name it (case matters) or its gene id, in the contrast's targets (or "
        "knockdown.targets).",
        "targets",
    ),
    Case(
        "target-entrez-id-for-symbols",
        "Knockdown targets",
        "a target given as an Entrez id, data named by symbol",
        _contrast(targets=["5530"]),
        f"column 'contrasts.{CONTRAST}.targets': knockdown target '5530' of contrast '{CONTRAST}' is neither a gene "
        "id nor a gene name of results/counts/counts.tsv. The data's gene names look like gene symbols (e.g. ABAT, "
        "ABCB1, ABCC1). Fix: give the target's symbol exactly as the data name it (case matters) or its gene id, "
        "in the contrast's targets (or knockdown.targets).",
        "targets",
    ),
    # ---- annotation ----------------------------------------------------------------------------
    Case(
        "annotation-entrez-for-symbols",
        "Annotation",
        "an Entrez-keyed annotation for symbol-keyed counts",
        _annotation("entrez.tsv", "GeneID\tSymbol\n" + "".join(f"{e}\t{s}\n" for s, (e, _) in GENES.items())),
        "config/entrez.tsv: shares no gene id with the counts: the counts are keyed by gene symbols (e.g. ABAT, "
        "ABCB1, ABCC1) but the annotation's ids look like Entrez gene ids (e.g. 5530, 5532, 2099). Fix: give an "
        "annotation keyed by gene symbols (a GTF or a gene_id<TAB>gene_name table), e.g. of the genome release "
        "the counts were made with; or leave `annotation:` out: the counts' ids are already gene symbols.",
        "counts",
    ),
    Case(
        "annotation-ensembl-gtf-for-symbols",
        "Annotation",
        "an Ensembl GTF for symbol-keyed counts",
        _annotation(
            "genes.gtf",
            "".join(
                f'chr1\tens\tgene\t{i * 100 + 1}\t{i * 100 + 50}\t.\t+\t.\tgene_id "{g}"; gene_name "{s}";\n'
                for i, (s, (_, g)) in enumerate(GENES.items())
            ),
        ),
        "config/genes.gtf: shares no gene id with the counts: the counts are keyed by gene symbols (e.g. ABAT, "
        "ABCB1, ABCC1) but the annotation's ids look like Ensembl gene ids (e.g. ENSG00000138814, ENSG00000107758, "
        "ENSG00000091831). Fix: give an annotation keyed by gene symbols (a GTF or a gene_id<TAB>gene_name table), "
        "e.g. of the genome release the counts were made with; or leave `annotation:` out: the counts' ids are "
        "already gene symbols.",
        "counts",
    ),
    Case(
        "annotation-maps-to-ids",
        "Annotation",
        "an annotation whose names are Entrez ids, not symbols",
        _annotation(
            "symbol2entrez.tsv", "gene_id\tgene_name\n" + "".join(f"{s}\t{e}\n" for s, (e, _) in GENES.items())
        ),
        "config/symbol2entrez.tsv: maps the counts' gene ids to Entrez gene ids (e.g. 2099, 9687, 5530), not to "
        "gene symbols. Fix: give a table gene_id<TAB>gene_name whose second column is the gene symbol (e.g. "
        "BioMart's 'Gene stable ID' and 'Gene name'); gene sets are matched by symbol.",
        "counts",
    ),
    Case(
        "annotation-without-names",
        "Annotation",
        "a GTF without gene_name attributes",
        _annotation(
            "noname.gtf",
            "".join(
                f'chr1\tens\tgene\t{i * 100 + 1}\t{i * 100 + 50}\t.\t+\t.\tgene_id "{s}"; gene_biotype "protein_coding";\n'
                for i, s in enumerate(GENES)
            ),
        ),
        "config/noname.gtf: gives no gene name for any of the 4 counted genes it lists. Fix: give a GTF with "
        "gene_name attributes or a gene_id<TAB>gene_name table with the names filled in.",
        "counts",
    ),
    # ---- GMT files -----------------------------------------------------------------------------
    Case(
        "gmt-empty",
        "Gene sets",
        "an empty GMT file",
        _gmt(""),
        "config/mine.gmt: the GMT file holds no gene set (it is empty). Fix: give a GMT file with one line per "
        "set: NAME<TAB>DESCRIPTION<TAB>GENE1<TAB>GENE2 ...",
        "gene_sets",
    ),
    Case(
        "gmt-line-without-genes",
        "Gene sets",
        "a GMT line with a name and description but no gene",
        _gmt("SET_A\tdesc\tESR1\tGREB1\nSET_B\tdesc\n"),
        "config/mine.gmt, row 2: has 2 non-empty tab-separated fields; a GMT line needs a set name, a description "
        "and at least one gene, separated by tabs. Fix: fix or remove this line (GMT: NAME<TAB>DESCRIPTION<TAB>"
        "GENE1<TAB>GENE2 ...).",
        "gene_sets",
    ),
    Case(
        "gmt-space-separated",
        "Gene sets",
        "a GMT written with spaces instead of tabs",
        _gmt("SET_A desc ESR1 GREB1 PGR\n"),
        "config/mine.gmt, row 1: has 1 non-empty tab-separated field, with spaces where tabs belong; a GMT line "
        "needs a set name, a description and at least one gene, separated by tabs. Fix: fix or remove this line "
        "(GMT: NAME<TAB>DESCRIPTION<TAB>GENE1<TAB>GENE2 ...).",
        "gene_sets",
    ),
    Case(
        "gmt-html-page",
        "Gene sets",
        "a web page saved as .gmt",
        _gmt("<!DOCTYPE html>\n<html><head><title>GSEA | MSigDB</title></head>\n<body>Login</body></html>\n"),
        "config/mine.gmt: is an HTML page, not a GMT file (a web page saved instead of the file it links to). "
        "Fix: download the .gmt file itself (e.g. MSigDB's 'Gene Symbols' link, or `curl -O URL`).",
        "gene_sets",
    ),
    Case(
        "gmt-gzipped",
        "Gene sets",
        "a gzip-compressed GMT named .gmt",
        _gmt(gzip.compress(b"SET_A\tdesc\tESR1\tGREB1\n", mtime=0)),
        "config/mine.gmt: is gzip-compressed, not a GMT text file. Fix: decompress it (gunzip) and give the .gmt.",
        "gene_sets",
    ),
    Case(
        "gmt-entrez-for-symbols",
        "Gene sets",
        "a GMT of Entrez ids for data named by symbol",
        _gmt("SET_A\tdesc\t" + "\t".join(e for e, _ in GENES.values()) + "\n", "h.all.v2024.1.Hs.entrez.gmt"),
        "config/h.all.v2024.1.Hs.entrez.gmt: shares no gene with the data: its genes look like Entrez gene ids "
        "(e.g. 5530, 5532, 2099) and the data's gene names look like gene symbols (e.g. ABAT, ABCB1, ABCC1). Fix: "
        "give a GMT of gene symbols (e.g. MSigDB's .symbols.gmt), or convert this one's Entrez gene ids to "
        "symbols.",
        "gene_sets",
    ),
    Case(
        "gmt-ensembl-for-symbols",
        "Gene sets",
        "a GMT of Ensembl ids for data named by symbol",
        _gmt("SET_A\tdesc\t" + "\t".join(g for _, g in GENES.values()) + "\n"),
        "config/mine.gmt: shares no gene with the data: its genes look like Ensembl gene ids (e.g. "
        "ENSG00000138814, ENSG00000107758, ENSG00000091831) and the data's gene names look like gene symbols (e.g. "
        "ABAT, ABCB1, ABCC1). Fix: give a GMT of gene symbols (e.g. MSigDB's .symbols.gmt), or convert this one's "
        "Ensembl gene ids to symbols.",
        "gene_sets",
    ),
]
