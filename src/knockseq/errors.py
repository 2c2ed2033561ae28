"""The one error type for user mistakes.

Every problem a user can fix (a bad file, a wrong column, an impossible design) raises
:class:`InputError`, which names where the problem is and what to do. Any other exception is a
bug in knockseq and keeps its traceback.
"""

from __future__ import annotations

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
