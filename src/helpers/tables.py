"""Reading and writing tables the same way everywhere, so that re-runs give byte-identical files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers import paths


def path_resolve(path: str | Path) -> Path:
    """Return ``path`` as an absolute path, reading relative paths from the project root.

    Notebook parameters hold paths relative to the repository root; resolving them here means a
    notebook gives the same result whether it runs from ``notebooks/`` in JupyterLab or from the
    runner.
    """
    p = Path(path)
    return p if p.is_absolute() else paths.ROOT / p


def table_write(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as UTF-8 CSV without index and with ``\\n`` line ends; return the path written.

    Fixed encoding, line ends and float format make two runs on the same input byte-identical.
    """
    out = path_resolve(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False, encoding="utf-8", lineterminator="\n", float_format="%.6g")
    return out


def table_read(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a CSV written by :func:`table_write` (UTF-8, optional BOM) and return it."""
    return pd.read_csv(path_resolve(path), encoding="utf-8-sig", keep_default_na=False, **kwargs)
