"""The configuration checked against ``workflow/schemas/config.schema.yaml``, one message per mistake.

The schema is the one home of every option's type, range and default; this module applies it
(filling defaults in place, as Snakemake's ``validate`` does) and turns every violation into
an :class:`~knockseq.errors.InputError` that names the config key, the bad value and the fix:
the closest valid key for a misspelt one (difflib), the allowed range and default for a number
out of range. :func:`check_paths` checks that every input file a dataset's settings name exists,
so a wrong path stops the run when the Snakefile is parsed. Nothing in the config is evaluated: column names must match
the schema's identifier pattern, and values are compared as text.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from knockseq.errors import InputError, closest, raise_all

#: Words for JSON types, as a user writes them in YAML.
_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a text value",
    "boolean": "true or false",
    "array": "a list ([a, b])",
    "object": "a mapping ({key: value})",
    "null": "null",
}

#: Config keys naming input files, with what each should be.
_PATH_KEYS = {
    "counts": "the count table (or null to read each sample's `quant` file)",
    "annotation": "a GTF or a gene_id<TAB>gene_name table (or null)",
    "tx2gene": "a GTF or a transcript_id<TAB>gene_id table (or null)",
}


def _with_defaults(validator_class: type) -> type:
    """A validator class that fills each ``properties`` default into the instance it checks."""
    check_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        for name, subschema in properties.items():
            if "default" in subschema and isinstance(instance, dict):
                instance.setdefault(name, subschema["default"])
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(Draft202012Validator)


def check_schema(
    config: dict[str, Any], schema: str | os.PathLike, *, source: str = "the config", prefix: str = ""
) -> dict[str, Any]:
    """Check ``config`` against the schema and fill in its defaults.

    Parameters
    ----------
    config : dict
        The configuration as loaded from YAML; modified in place (defaults filled).
    schema : str or PathLike
        ``workflow/schemas/config.schema.yaml``.
    source : str
        Where the config came from (its file), named in messages.
    prefix : str
        Put before every key a message names: a dataset's settings are checked as a
        configuration of their own, and their keys are ``datasets.NAME.KEY`` in the user's file.

    Returns
    -------
    dict
        ``config``, with every defaulted option filled.

    Raises
    ------
    InputError
        Every key that breaks the schema (unknown key, wrong type, value out of range or not
        allowed, missing required key), all in one :class:`~knockseq.errors.InputErrors` when
        there are several. Input paths are checked per dataset
        (:func:`check_paths`, from :func:`knockseq.datasets.load_datasets`).
    """
    rules = yaml.safe_load(Path(schema).read_text())
    # Checked before defaults are filled: a failed oneOf branch would fill its defaults into the
    # entry being explained.
    errors = [_explain(error, rules, source, prefix) for error in Draft202012Validator(rules).iter_errors(config)]
    raise_all(list({str(error): error for error in errors}.values()))
    _Validator(rules).validate(config)
    return config


def _key(path: Sequence[Any], prefix: str = "") -> str:
    """Dotted config key of a schema error path: ``gsea.permutations``, ``gene_sets[2].gmt`` (1-based)."""
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return prefix + text if text else prefix.rstrip(".") or "(top level)"


def _explain(error: ValidationError, rules: dict[str, Any], source: str, prefix: str = "") -> InputError:
    """An InputError for one schema violation: key, bad value, fix."""
    key = _key(error.absolute_path, prefix)
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    if kind == "oneOf" and isinstance(value, dict) and "gene_sets" in error.absolute_path:
        return _explain_source(error, rules, source, prefix)
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        unknown = [name for name in value if name not in allowed]
        name = unknown[0]
        where = f"{key}.{name}" if error.absolute_path else prefix + name
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        fix = f"rename it to `{close[0]}`, the closest valid key" if close else "remove it"
        return _error(
            f"unknown key `{where}`.",
            source,
            f"{fix} (valid keys{' of ' + key if error.absolute_path else ''}: {', '.join(allowed)}).",
        )
    if kind == "required":
        missing = [name for name in error.validator_value if name not in value][0]
        where = f"{key}.{missing}" if error.absolute_path else prefix + missing
        return _error(
            f"`{where}` is missing.", source, f"add `{missing}:` ({_describe(schema['properties'][missing])})."
        )
    if kind == "enum" and "propertyNames" in error.schema_path:
        close = difflib.get_close_matches(str(value), [str(v) for v in error.validator_value], n=1, cutoff=0.6)
        hint = f"rename it to `{close[0]}`" if close else "remove it"
        return _error(
            f"unknown key `{key}.{value}`.",
            source,
            f"{hint} (valid keys of {key}: {', '.join(map(str, error.validator_value))}).",
        )
    if kind == "pattern" and "propertyNames" in error.schema_path:
        return _error(f"name {value!r} in `{key}` is not allowed.", source, f"rename it: {schema['title']}.")
    shown = _shown(value)
    if kind == "type":
        fix = f"set `{key}` to {_describe(schema)}."
        if key.endswith(".where"):
            fix = "write where as {column: value} or {column: [values]}; it is never evaluated as an expression."
        return _error(f"`{key}` is {shown}, not {_types(error.validator_value)}.", source, fix)
    if kind == "enum":
        allowed = [str(v) for v in error.validator_value]
        close = [v for v in allowed if v.lower() == str(value).lower()]
        close = close or difflib.get_close_matches(str(value), allowed, n=1, cutoff=0.6)
        use = f"use `{close[0]}`" if close else "use one of them"
        return _error(f"`{key}` is {shown}, not one of {', '.join(allowed)}.", source, f"{use}.")
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return _error(f"`{key}` is {shown}, out of range.", source, f"set it to {_describe(schema)}.")
    if kind == "pattern":
        return _error(
            f"`{key}` is {shown}, not {schema['title']}.",
            source,
            "correct it; nothing in the config is evaluated, so formulas, expressions and code are refused.",
        )
    if kind in ("minItems", "minProperties"):
        return _error(f"`{key}` is empty.", source, f"give {_describe(schema)}.")
    if kind == "oneOf":
        alternatives = " or ".join(_describe(branch) for branch in error.validator_value)
        return _error(f"`{key}` is {shown}, not {alternatives}.", source, f"set it to {alternatives}.")
    if kind == "uniqueItems":
        repeated = next(v for i, v in enumerate(value) if v in value[:i])
        return _error(f"`{key}` lists {_shown(repeated)} twice.", source, "list each value once.")
    if kind == "minLength":
        return _error(f"`{key}` is an empty text.", source, f"remove it or set it to {_describe(schema)}.")
    return _error(f"`{key}`: {error.message}.", source, f"set it to {_describe(schema)}.")


def _explain_source(error: ValidationError, rules: dict[str, Any], source: str, prefix: str = "") -> InputError:
    """A gene_sets entry that matches no kind of source: the kind it names, and what is wrong with it."""
    entry = error.instance
    key = _key(error.absolute_path, prefix)
    branches = {next(iter(branch["required"])): branch for branch in error.validator_value}
    kinds = [kind for kind in branches if kind in entry]
    if len(kinds) != 1:
        named = ", ".join(sorted(entry)) or "nothing"
        renames = [(name, difflib.get_close_matches(str(name), list(branches), n=1, cutoff=0.6)) for name in entry]
        hint = next((f"rename `{name}` to `{close[0]}`; " for name, close in renames if close), "") if not kinds else ""
        return _error(
            f"`{key}` names {named}: a gene set source has exactly one of {', '.join(branches)}.",
            source,
            f"{hint}write it as {{builtin: er_core}}, {{gmt: PATH}} or {{msigdb: h, version: 2024.1.Hs}}.",
        )
    kind = kinds[0]
    inner = next(Draft202012Validator(branches[kind]).iter_errors(entry))
    inner.path.extendleft(reversed(list(error.absolute_path)))
    inner.schema_path.extendleft(reversed(list(error.schema_path) + [list(branches).index(kind)]))
    return _explain(inner, rules, source, prefix)


def _error(message: str, source: str, fix: str) -> InputError:
    return InputError(message, path=source, fix=fix)


def _shown(value: Any) -> str:
    """A config value as the user wrote it in YAML."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("...").strip()


def _types(types: str | list[str]) -> str:
    return " or ".join(_TYPE_WORDS[t] for t in ([types] if isinstance(types, str) else types))


def _describe(schema: dict[str, Any]) -> str:
    """What a value of ``schema`` must be, in words: its title or type and range, and its default."""
    if "title" in schema:
        text = schema["title"]
    elif "enum" in schema:
        text = "one of " + ", ".join(map(str, schema["enum"]))
    else:
        text = _types(schema.get("type", "string"))
        bounds = []
        for keyword, sign in (
            ("exclusiveMinimum", ">"),
            ("minimum", ">="),
            ("exclusiveMaximum", "<"),
            ("maximum", "<="),
        ):
            if keyword in schema:
                bounds.append(f"{sign} {schema[keyword]}")
        if bounds:
            text += " " + " and ".join(bounds)
    if "default" in schema and schema["default"] not in ({}, []):
        text += f" (default {_shown(schema['default'])})"
    return text


def check_paths(config: dict[str, Any], source: str) -> None:
    """Raise if an input file a (single-dataset) configuration names does not exist: ``counts``,
    ``annotation``, ``tx2gene`` or a ``gmt`` (relative paths are taken from the current folder,
    the one Snakemake runs in). Every missing file is named, each with the closest existing
    sibling when one looks like it."""
    missing = [
        (key, config[key], f"set `{key}:` in {source} to {what}")
        for key, what in _PATH_KEYS.items()
        if config[key] is not None and not Path(config[key]).exists()
    ]
    missing += [
        (f"gene_sets[{index}].gmt", entry["gmt"], f"set `gmt:` of gene_sets entry {index} in {source} to a GMT file")
        for index, entry in enumerate(config["gene_sets"], start=1)
        if "gmt" in entry and not Path(entry["gmt"]).is_file()
    ]
    raise_all(
        [
            InputError(
                f"file not found (config key `{key}`).",
                path=path,
                fix=f"{fix}{_sibling(path)}; relative paths start from the folder snakemake runs in.",
            )
            for key, path, fix in missing
        ]
    )


def _sibling(path: str) -> str:
    """`` (did you mean PATH?)`` for an existing file beside ``path`` with a similar name, else ''."""
    folder = Path(path).parent
    try:
        names = [entry.name for entry in folder.iterdir()]
    except OSError:
        return ""
    match = closest(Path(path).name, names)
    return f" (did you mean {folder / match}?)" if match else ""
