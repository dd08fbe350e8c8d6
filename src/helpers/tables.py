"""Reading and writing tables the same way everywhere, so that re-runs give byte-identical files."""

from __future__ import annotations

import re
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


#: The time written into workbooks and zip members, so that re-runs give the same bytes.
FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def workbook_save(workbook, path: str | Path) -> Path:
    """Save an openpyxl workbook so that the same content always gives the same bytes; return the path.

    An .xlsx is a zip archive whose members carry the time they were written, and openpyxl stamps the
    document properties with the current time; both are fixed here (:data:`FIXED_TIME`), so a
    re-run does not change a committed workbook.
    """
    import datetime as dt
    import io

    fixed = dt.datetime(*FIXED_TIME)
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    buf = io.BytesIO()
    workbook.save(buf)

    def fix_modified(name: str, content: bytes) -> bytes:
        if (
            name != "docProps/core.xml"
        ):  # openpyxl writes the save time here whatever properties say
            return content
        return re.sub(
            rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
            rb"\g<1>%b\g<2>" % fixed.strftime("%Y-%m-%dT%H:%M:%SZ").encode(),
            content,
        )

    return zip_normalize(buf.getvalue(), path, transform=fix_modified)


def zip_normalize(data: bytes, path: str | Path, transform=None) -> Path:
    """Write the zip archive ``data`` to ``path`` with fixed member timestamps and order; return the path.

    ``transform(name, content) -> content`` may rewrite members (e.g. a timestamp inside one).
    """
    import io
    import zipfile

    out = path_resolve(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            content = src.read(info.filename)
            dst.writestr(member, transform(info.filename, content) if transform else content)
    out.write_bytes(buf.getvalue())
    return out
