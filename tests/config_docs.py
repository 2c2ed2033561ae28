"""docs/configuration.md and config/config.yaml, generated from the config schema so they cannot drift.

The schema (``workflow/schemas/config.schema.yaml``) is the one home of every option: its
description, type, default and allowed values. ``python tests/config_docs.py --write`` rewrites
the option reference of docs/configuration.md and the whole of config/config.yaml (the bundled
example's values, every other option at its default, each with its comment);
tests/test_config.py fails when either differs from what this script writes.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

import docgen  # noqa: E402
from conftest import PROJECT  # noqa: E402

SCRIPT = "tests/config_docs.py"
SCHEMA = PROJECT / "workflow/schemas/config.schema.yaml"
DOC = PROJECT / "docs/configuration.md"
CONFIG = PROJECT / "config/config.yaml"
#: The bundled example's own values; every other option is written at its default.
EXAMPLE = {
    "samples": "config/samples.tsv",
    "contrasts": {
        "knockdown_vs_control": {
            "variable": "condition",
            "test": "knockdown",
            "reference": "control",
            "targets": ["PPP3CA", "PPP3CB"],
        }
    },
}
HEADER = """\
# knockseq configuration of the bundled example: every option, with its default.
# Generated from workflow/schemas/config.schema.yaml by tests/config_docs.py; do not edit by hand
# (docs/configuration.md has the same text as a reference).
#
# Run on the bundled example:     snakemake --cores 8
# Run on your own data:           snakemake --cores 8 --configfile my.yaml
# With --configfile, this file is NOT read at all: your file is the whole configuration (options
# it leaves out take the defaults shown here). Relative paths are relative to the folder
# snakemake runs in. The whole file is checked before any job starts.
"""
WIDTH = 100


def schema() -> dict[str, Any]:
    return yaml.safe_load(SCHEMA.read_text())


def flow(value: Any) -> str:
    """A YAML value on one line, as a user writes it."""
    return (
        yaml.safe_dump(value, default_flow_style=True, width=10_000, sort_keys=False)
        .strip()
        .removesuffix("...")
        .strip()
    )


def kind(node: dict[str, Any]) -> str:
    """The type of an option, in words."""
    if "enum" in node:
        return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
    types = node.get("type", "object")
    types = [types] if isinstance(types, str) else types
    words = {
        "string": "text",
        "number": "number",
        "integer": "integer",
        "boolean": "true/false",
        "array": "list",
        "object": "mapping",
        "null": "null",
    }
    text = " or ".join(words[t] for t in types)
    bounds = [
        f"{sign} {node[k]:g}"
        for k, sign in (("exclusiveMinimum", ">"), ("minimum", ">="), ("exclusiveMaximum", "<"), ("maximum", "<="))
        if k in node
    ]
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def default_text(node: dict[str, Any]) -> str:
    if "default" in node:
        return f"`{flow(node['default'])}`"
    return "required" if node.get("required_here") else "none"


def options(node: dict[str, Any], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """(dotted key, schema node) of every documented option, in schema order, nested ones after their section."""
    rows = []
    for key, sub in node.get("properties", {}).items():
        rows.append((prefix + key, sub))
        if sub.get("type") == "object" and "properties" in sub:
            rows += options(sub, f"{prefix}{key}.")
        item = sub.get("additionalProperties")
        if isinstance(item, dict) and "properties" in item:
            rows += options(item, f"{prefix}{key}.NAME.")
    return rows


def reference() -> str:
    """The option reference of docs/configuration.md: one entry per option."""
    root = schema()
    lines = []
    for key, node in options(root):
        lines.append(f"### `{key}`")
        lines.append("")
        facts = [f"type: {kind(node)}", f"default: {default_text(node)}"]
        lines.append("; ".join(facts) + ".")
        lines.append("")
        description = node.get("description") or node.get("title")
        if description:
            lines.append(description.strip())
            lines.append("")
        for example in node.get("examples", [])[:1]:
            lines.append(f"Example: `{key.rsplit('.', 1)[-1]}: {flow(example)}`")
            lines.append("")
    return "\n".join(lines).rstrip()


def _comment(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}" for line in textwrap.wrap(" ".join(text.split()), WIDTH - len(indent) - 2)]


def _block(node: dict[str, Any], values: dict[str, Any], indent: str) -> list[str]:
    """The YAML lines of a mapping's options: each with its comment, value or commented example."""
    lines = []
    for key, sub in node.get("properties", {}).items():
        described = sub.get("description") or sub.get("title") or ""
        if described:
            if not indent:
                lines.append("")
            lines += _comment(described, indent)
        if "enum" in sub:
            lines += _comment("allowed: " + ", ".join(map(str, sub["enum"])) + ".", indent)
        if key in values:
            value = values[key]
        elif "default" in sub:
            value = sub["default"]
        else:
            for example in sub.get("examples", [])[:1]:
                lines += _commented({key: example}, indent)
            continue
        if sub.get("type") == "object" and "properties" in sub:
            lines.append(f"{indent}{key}:")
            lines += _block(sub, value, indent + "  ")
        elif isinstance(value, dict) and value and "properties" in sub.get("additionalProperties", {}):
            lines.append(f"{indent}{key}:")
            # One comment line per field, then each entry as given.
            fields = sub["additionalProperties"]["properties"]
            width = max(map(len, fields)) + 2
            for field, spec in fields.items():
                text = " ".join((spec.get("description") or spec.get("title", "")).split())
                if "default" in spec and spec["default"] not in ({}, []):
                    text += f" (default {flow(spec['default'])})"
                wrapped = textwrap.wrap(text, WIDTH - len(indent) - 4 - width)
                lines += [
                    f"{indent}  #   {(field if i == 0 else '').ljust(width)}{part}" for i, part in enumerate(wrapped)
                ]
            for name, item in value.items():
                lines.append(f"{indent}  {name}:")
                lines += [f"{indent}    {field}: {flow(setting)}" for field, setting in item.items()]
        elif isinstance(value, dict) and value:
            lines.append(f"{indent}{key}:")
            lines += [f"{indent}  {name}: {flow(item)}" for name, item in value.items()]
        elif isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            lines.append(f"{indent}{key}:")
            lines += [f"{indent}  - {flow(item)[1:-1]}" for item in value]
        else:
            lines.append(f"{indent}{key}: {flow(value)}")
            if not value and sub.get("examples") and key not in values:
                lines += _commented({key: sub["examples"][0]}, indent)
    return lines


def _commented(value: dict[str, Any], indent: str) -> list[str]:
    """An example as commented-out YAML, nested mappings as blocks, leaves on one line."""
    text = yaml.safe_dump(value, default_flow_style=None, sort_keys=False, width=WIDTH - len(indent) - 2)
    return [f"{indent}# {line}" for line in text.splitlines()]


def config_yaml() -> str:
    """The whole of config/config.yaml."""
    return HEADER + "\n".join(_block(schema(), EXAMPLE, "")) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: python {SCRIPT} --write")
    docgen.write(DOC, "options", SCRIPT, reference())
    CONFIG.write_text(config_yaml())
