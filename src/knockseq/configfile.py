"""A configuration file read strictly: duplicate keys and non-mapping files are refused.

Snakemake reads the config itself (a later duplicate key silently replaces the earlier one, so a
contrast written twice runs once). The workflow reads each config file again with this module
before checking it, so such a file stops the run with its name, the key and the line.
"""

from __future__ import annotations

import os
from typing import Any

import yaml

from knockseq.errors import InputError


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader (no tags that build objects), refusing a key repeated in a mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise InputError(
                    f"key `{key}` is written twice in one mapping (lines {seen[key]} and {line}); YAML would "
                    "keep only the last one.",
                    path=self.name,
                    row=line,
                    fix="keep one of them (merge their settings, or rename one: e.g. two contrasts need two names).",
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """The mapping a YAML (or JSON) config file holds, read strictly.

    Parameters
    ----------
    path : str or PathLike
        The config file.

    Returns
    -------
    dict
        Its top-level mapping.

    Raises
    ------
    InputError
        The file is not valid YAML (with the line of the mistake), is not a mapping at its top
        level, repeats a key within a mapping (naming the key and both lines), or asks for YTE
        templating.
    """
    with open(path, encoding="utf-8") as handle:
        loader = _StrictLoader(handle)
        loader.name = str(path)
        try:
            data = loader.get_single_data()
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            raise InputError(
                f"not valid YAML: {error.problem}{f' ({error.context})' if error.context else ''}.",
                path=path,
                row=mark.line + 1 if mark else None,
                fix="correct the YAML at that line (indent with spaces, never tabs; quote values holding ': ' or '#').",
            ) from None
        finally:
            loader.dispose()
    if not isinstance(data, dict):
        raise InputError(
            f"the file holds {type(data).__name__ if data is not None else 'nothing'}, not a mapping of options.",
            path=path,
            fix="write one option per line at the top level (samples: ..., contrasts: ...), as config/config.yaml "
            "does.",
        )
    if "__use_yte__" in data:
        raise InputError(
            "`__use_yte__` asks Snakemake to evaluate the file as a YTE template (Python expressions in the YAML); "
            "knockseq evaluates nothing from a config.",
            path=path,
            fix="remove `__use_yte__` and write plain values.",
        )
    return data
