"""The one exception type for bad user input, with a message that names file, row and column."""

from __future__ import annotations

from os import PathLike


class InputError(ValueError):
    """A user's input file or config is wrong; the message says where and how to fix it."""

    def __init__(
        self,
        path: str | PathLike | None,
        message: str,
        row: int | str | None = None,
        column: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.row = row
        self.column = column
        where = [self.path] if self.path else []
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
