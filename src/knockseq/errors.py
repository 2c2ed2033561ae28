"""The one error type for user mistakes.

Every problem a user can fix (a bad file, a wrong column, an impossible design) raises
:class:`InputError`, which names where the problem is and what to do. Any other exception is a
bug in knockseq and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from os import PathLike


@dataclass
class InputError(Exception):
    """A problem in the user's input, with its location and the fix.

    Parameters
    ----------
    message : str
        What is wrong, in one sentence.
    path : str or PathLike, optional
        The file the problem is in.
    row : int or str, optional
        1-based line number or row label in that file.
    column : str, optional
        The column (or config key) at fault.
    fix : str, optional
        What the user should do about it.
    """

    message: str
    path: str | PathLike | None = None
    row: int | str | None = None
    column: str | None = None
    fix: str | None = None

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class InputErrors(InputError):
    """Several user mistakes found in one pass (a configuration's), reported together.

    Parameters
    ----------
    errors : sequence of InputError
        Each mistake; nested :class:`InputErrors` are flattened.
    """

    def __init__(self, errors: Sequence[InputError]) -> None:
        self.errors = [single for error in errors for single in getattr(error, "errors", [error])]
        super().__init__(message=f"{len(self.errors)} problems.")

    def __str__(self) -> str:
        return f"{len(self.errors)} problems:\n" + "\n".join(f"{i}. {error}" for i, error in enumerate(self.errors, 1))


def raise_all(errors: Sequence[InputError]) -> None:
    """Raise the one error of ``errors``, or all of them as :class:`InputErrors`; nothing if empty."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)


def closest(word: str, choices: Iterable[str], *, typos: bool = True) -> str | None:
    """The choice a mistyped ``word`` most likely meant, or None.

    First a choice spelled the same but for case and punctuation (``Knockdown`` or
    ``knockdown-1`` for ``knockdown_1``); then, with ``typos``, the closest by
    :func:`difflib.get_close_matches` (ratio at least 0.6). Without ``typos`` for names where a
    near miss is often another valid name (``siRNA_3`` for a missing ``siRNA_2``).
    """
    choices = [str(choice) for choice in choices]
    spelled = _spelling(word)
    same = [choice for choice in choices if _spelling(choice) == spelled and choice != word]
    if same:
        return same[0]
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6) if typos else []
    return close[0] if close else None


def _spelling(text: str) -> str:
    return "".join(char for char in text.lower() if char.isalnum())
