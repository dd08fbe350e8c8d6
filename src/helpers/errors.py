"""One error type for bad input, with one message format, and one way to show a path.

Every file a researcher gives the project (a document, ``data/corpus.csv``, the codebook, a user
dictionary, an annotation file, a returned coding sheet, ``pipeline.yaml``) is checked when read;
when it cannot be used the reader raises :class:`InputError` (or one of its subclasses, which keep
the stage's name: ``DocumentError``, ``CodebookError`` …). The message alone is enough to fix the
input::

    data/codebook.yaml, line 41, field 'keywords', code 'digital': must be a list of words

the file (relative to the project when inside it), where in it, then what is wrong and what to do.
"""

from __future__ import annotations

from pathlib import Path

from helpers import paths


def path_display(path: str | Path) -> str:
    """Return ``path`` as messages show it: relative to the project root when inside it.

    A relative path is shown as given; an absolute one inside the project as ``data/raw/x.txt`` on
    every machine; anything else as given. The path is not resolved first, so a symbolic link is
    named by its own path, not by its target.
    """
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    for candidate in (p, p.resolve()):
        try:
            return candidate.relative_to(paths.ROOT).as_posix()
        except ValueError:
            continue
    return str(path)


class InputError(ValueError):
    """An input file cannot be used: ``path, line N, field, code, sheet, cell: reason``.

    Only the parts given appear. The attributes keep the parts, so callers (the problems table,
    tests) need not parse the message. A ``ValueError``, so code that guards a conversion with
    ``except ValueError`` also sees bad input.
    """

    def __init__(
        self,
        path: str | Path,
        reason: str,
        *,
        line: int | None = None,
        field: str | None = None,
        code: str | None = None,
        sheet: str | None = None,
        cell: str | None = None,
    ) -> None:
        self.path, self.reason = path, reason
        self.line, self.field, self.code, self.sheet, self.cell = line, field, code, sheet, cell
        super().__init__(self.message())

    def message(self) -> str:
        """Return the one-line message (the same as ``str(error)``)."""
        where = [path_display(self.path)]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        if self.code is not None:
            where.append(f"code {self.code!r}")
        if self.sheet is not None:
            where.append(f"sheet {self.sheet!r}")
        if self.cell is not None:
            where.append(f"cell {self.cell}")
        return ", ".join(where) + f": {self.reason}"

    def __str__(self) -> str:
        return self.message()

    def __reduce__(self):
        # Keyword-only arguments do not survive the default pickling of exceptions, and documents
        # are read in worker processes (engine dask).
        parts = {
            "line": self.line,
            "field": self.field,
            "code": self.code,
            "sheet": self.sheet,
            "cell": self.cell,
        }
        return (_error_rebuild, (type(self), self.path, self.reason, parts))


def _error_rebuild(cls: type[InputError], path, reason, parts: dict) -> InputError:
    """Return an error of class ``cls`` from its parts; exists for pickling."""
    error = cls.__new__(cls)
    InputError.__init__(error, path, reason, **parts)
    return error
