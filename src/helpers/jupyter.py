"""Importing the Jupyter libraries (nbformat, papermill) without what they never use here.

Used by the runner (:mod:`helpers.kernels`) and the report (:mod:`helpers.report_pages`).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()


@contextmanager
def iri_checks_skipped() -> Iterator[None]:
    """Import nbformat or papermill without ``rfc3987_syntax``, which ``jsonschema`` imports.

    ``rfc3987_syntax`` builds 38 parsers when imported (1.5 CPU s); jsonschema uses it only to
    check the ``iri`` formats, which the notebook schema does not use. Inside this block the
    import fails (a ``None`` entry in ``sys.modules``), so jsonschema goes without it; afterwards it
    imports as usual. When jsonschema is already imported, nothing changes. The runner imports
    papermill from two notebooks' threads at once: a lock keeps the blocks apart.
    """
    with _LOCK:
        skip = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
        if skip:
            sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
        try:
            yield
        finally:
            if skip and sys.modules.get("rfc3987_syntax", 0) is None:
                del sys.modules["rfc3987_syntax"]
