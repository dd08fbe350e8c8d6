"""Second-coder workbooks: a blank sheet for a colleague, and the returned sheet read back.

:func:`sheet_write` writes the units with one 0/1 column per code, the codebook and instructions;
:func:`sheet_read` reads the filled sheet into the long layout of :mod:`helpers.annotations`,
every problem an error naming the cell; :func:`sheet_agreement_write` reports the second coder's
agreement (:func:`second_coder_agreement`) with the reference and the other human coders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from helpers.agreement import codings_agreement
from helpers.annotations import CODING_COLUMNS
from helpers.codebook import Codebook
from helpers.errors import InputError
from helpers.tables import path_resolve, table_write, workbook_save

SHEET_CODING = "coding"
SHEET_CODEBOOK = "codebook"
SHEET_INSTRUCTIONS = "instructions"
SHEET_UNIT_COLUMNS = ("unit_id", "heading_path", "text")
SHEET_NOTE_COLUMN = "note"
SHEET_CODER_CELL = "B3"
SHEET_DEFAULT_CODER = "second-coder"
#: Workbook and archive timestamps are fixed so that re-runs write identical bytes.


def second_coder_agreement(
    codings: pd.DataFrame,
    second: pd.DataFrame,
    *,
    reference: str,
    coders: Sequence[str],
    **kwargs,
) -> pd.DataFrame:
    """Return a second coder's agreement with the reference coder, then with every human coder.

    ``second`` is the returned second-coder sheet in the long layout (:func:`sheet_read`);
    ``coders`` the human coders of ``codings``. Two tables of :func:`codings_agreement` one after
    the other (``reliability_second_coder.csv``): the pair (reference, second coder), then all
    human coders with the second (Fleiss' kappa and Krippendorff's alpha over them). ``kwargs``
    go to :func:`codings_agreement` (bootstrap options).
    """
    name = second["coder"].iloc[0]
    both = pd.concat([codings, second], ignore_index=True)
    return pd.concat(
        [
            codings_agreement(both, coders=[reference, name], **kwargs),
            codings_agreement(both, coders=[*coders, name], **kwargs),
        ],
        ignore_index=True,
    )


class SheetError(InputError):
    """A returned coding sheet cannot be used. The message names the file, sheet and cell (the
    format of every :class:`~helpers.errors.InputError`)."""


def _instructions(codebook: Codebook) -> list[str]:
    return [
        "How to code (编码说明)",
        "",
        "1. Read the codebook sheet first: each code's definition, what it includes, what it "
        "excludes, and anchor examples. Code by these definitions only.",
        f"2. In the '{SHEET_CODING}' sheet, each row is one unit (a sentence) with its heading "
        "path (the section it belongs to). Read the unit in its context.",
        "3. For every unit and every code, enter 1 if the code applies and 0 if it does not. A "
        "unit may get several codes (multi-label) or none (all 0).",
        "4. Every code cell must hold 0 or 1: an empty cell is an error when the sheet is read "
        "back, so that a forgotten cell is never counted as 0. A unit you did not code at all: "
        "leave its whole row of code cells empty (it is then reported as not coded, only if the "
        "analyst allows uncoded units).",
        "5. Do not rename, add, delete or reorder the columns, and do not change the unit ids. Use "
        f"the '{SHEET_NOTE_COLUMN}' column for remarks on hard cases.",
        f"6. Enter your coder id in cell {SHEET_CODER_CELL} of this sheet.",
        "",
        "每个单元、每个编码类目填 0 或 1（多标签，可全部为 0）；不要留空，不要改动列名和单元编号。",
        f"Codebook: {codebook.title} v{codebook.version}",
    ]


def sheet_write(units: pd.DataFrame, codebook: Codebook, path: str | Path) -> Path:
    """Write a blank second-coder workbook (xlsx) for the units; return the path written.

    Sheet ``coding``: unit_id, heading_path, text, then one column per code (codebook order, code id
    as header) restricted to 0/1 by a data validation list, then ``note``. Sheet ``codebook``: each
    code's dimension, labels, definition, the report's wording, include rules, exclusions and
    anchors (the coding manual of :func:`helpers.codebook.codebook_manual`, without the dictionary's
    keywords, patterns and rules, so that the second coding stays independent). Sheet
    ``instructions``: how to fill it in, and a cell for the coder id. Timestamps are fixed, so the
    same input gives the same bytes.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    missing = [c for c in SHEET_UNIT_COLUMNS if c not in units.columns]
    if missing:
        raise KeyError(f"units table has no column(s) {missing}")
    if units["unit_id"].duplicated().any():
        first = units.loc[units["unit_id"].duplicated(), "unit_id"].iloc[0]
        raise ValueError(f"unit ids must be unique; {first!r}")
    p = path_resolve(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_CODING
    header = [*SHEET_UNIT_COLUMNS, *codebook.ids, SHEET_NOTE_COLUMN]
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in units.itertuples(index=False):
        hp = r.heading_path
        ws.append([r.unit_id, "" if pd.isna(hp) else str(hp), str(r.text)])
    first = len(SHEET_UNIT_COLUMNS) + 1
    last = first + len(codebook.ids) - 1
    if len(units):
        dv = DataValidation(
            type="list",
            formula1='"0,1"',
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="0 or 1",
            error="Enter 0 (code does not apply) or 1 (code applies).",
        )
        dv.add(f"{get_column_letter(first)}2:{get_column_letter(last)}{len(units) + 1}")
        ws.add_data_validation(dv)
    ws.freeze_panes = f"{get_column_letter(first)}2"
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 80
    for i in range(first, last + 2):
        ws.column_dimensions[get_column_letter(i)].width = 12
    for row in ws.iter_rows(min_row=2, min_col=3, max_col=3):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")

    cb_ws = wb.create_sheet(SHEET_CODEBOOK)
    cb_ws.append(
        [
            "code",
            "dimension",
            "label_zh",
            "label_en",
            "definition",
            "report wording",
            "include",
            "exclusions",
            "anchors",
        ]
    )
    for cell in cb_ws[1]:
        cell.font = Font(bold=True)
    for c in codebook.codes:
        dim = codebook.dimensions.get(c.dimension, {})
        quote = c.definition_quote or {}
        cb_ws.append(
            [
                c.id,
                f"{dim.get('label_zh', c.dimension)} ({c.dimension})",
                c.label_zh,
                c.label_en,
                c.definition,
                f"{quote.get('unit_id', '')}: {quote.get('text', '')}" if quote else "",
                "\n".join(f"- {x}" for x in c.include),
                "\n".join(f"- {x}" for x in c.exclusions),
                "\n".join(f"- {a.get('unit_id', '')}: {a.get('text', '')}" for a in c.anchors),
            ]
        )
    for col, width in zip("ABCDEFGHI", (20, 22, 12, 22, 60, 50, 60, 60, 70)):
        cb_ws.column_dimensions[col].width = width
    for row in cb_ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    ins = wb.create_sheet(SHEET_INSTRUCTIONS)
    ins["A1"] = "Second-coder sheet"
    ins["A1"].font = Font(bold=True)
    ins["A3"] = "coder id:"
    ins[SHEET_CODER_CELL] = None
    for i, line in enumerate(_instructions(codebook), start=5):
        ins.cell(row=i, column=1, value=line)
    ins.column_dimensions["A"].width = 120

    # the module that wrote it before the split: a new name would change the committed bytes
    wb.properties.creator = "helpers.reliability"
    return workbook_save(wb, p)


def _cell_value(v) -> int | None | str:
    """0/1 for a valid code cell, None for an empty one, the text of anything else."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)) and v in (0, 1):
        return int(v)
    if isinstance(v, str) and v.strip() in ("0", "1"):
        return int(v.strip())
    return str(v)


def sheet_read(
    path: str | Path,
    codebook: Codebook,
    units: pd.DataFrame | Iterable[str],
    *,
    coder: str | None = None,
    uncoded: str = "error",
) -> pd.DataFrame:
    """Read a returned second-coder sheet; return its codings in the long layout.

    Checks, each failure a :class:`SheetError` naming the sheet and cell (``sheet 'coding', cell D7:
    value '2' is not 0 or 1``): the ``coding`` sheet exists; the header has ``unit_id`` and one
    column per code, no renamed, unknown or repeated columns (``heading_path``, ``text`` and
    ``note`` are allowed and ignored); every unit id is one of ``units`` (a DataFrame with
    ``unit_id`` or the ids) and appears once; every code cell holds 0 or 1. A formula whose value
    was not saved with the sheet (a sheet written by a script, or saved by a program that does not
    calculate) is reported as such, not as an empty cell.

    Empty cells: by default (``uncoded="error"``) every code cell must be filled, and every unit of
    ``units`` must be in the sheet, so that a forgotten cell or a deleted row is never taken as 0.
    With ``uncoded="skip"`` a unit whose code cells are *all* empty, or that is missing from the
    sheet, is "not coded" and gets no rows (missing data for the statistics); a row filled in part
    is still an error. The coder id is ``coder``, else the instructions sheet's coder cell, else
    ``second-coder``. Returns columns coder, unit_id, code, value.
    """
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    if uncoded not in ("error", "skip"):
        raise ValueError(f"uncoded must be 'error' or 'skip', not {uncoded!r}")
    p = path_resolve(path)
    if not p.exists():
        raise SheetError(p, "file not found")
    try:
        wb = load_workbook(p, data_only=True)
    except Exception as exc:
        raise SheetError(p, f"not a readable xlsx workbook: {exc}") from None
    if SHEET_CODING not in wb.sheetnames:
        raise SheetError(p, f"no sheet {SHEET_CODING!r} (sheets are {wb.sheetnames})")
    ws = wb[SHEET_CODING]
    known = list(units["unit_id"]) if isinstance(units, pd.DataFrame) else list(units)
    known_set = set(known)
    codes = codebook.ids
    allowed = {*SHEET_UNIT_COLUMNS, SHEET_NOTE_COLUMN}
    rows = list(ws.iter_rows(min_row=1, values_only=False))
    if not rows:
        raise SheetError(p, "the sheet is empty", sheet=SHEET_CODING)
    col_of: dict[str, int] = {}
    for cell in rows[0]:
        name = "" if cell.value is None else str(cell.value).strip()
        if not name:
            continue
        if name in col_of:
            raise SheetError(
                p,
                f"column {name!r} appears twice (first in {get_column_letter(col_of[name] + 1)}1)",
                sheet=SHEET_CODING,
                cell=cell.coordinate,
            )
        if name not in codes and name not in allowed:
            missing = [
                c
                for c in codes
                if c not in {str(x.value).strip() for x in rows[0] if x.value is not None}
            ]
            hint = f"; missing code column(s): {', '.join(missing)}" if missing else ""
            raise SheetError(
                p,
                f"column {name!r} is not a code of the codebook (renamed?){hint}",
                sheet=SHEET_CODING,
                cell=cell.coordinate,
            )
        col_of[name] = cell.column - 1
    for need in ["unit_id", *codes]:
        if need not in col_of:
            raise SheetError(
                p, f"no column {need!r} in the header row (row 1)", sheet=SHEET_CODING, cell=None
            )
    who = coder
    if who is None and SHEET_INSTRUCTIONS in wb.sheetnames:
        v = wb[SHEET_INSTRUCTIONS][SHEET_CODER_CELL].value
        who = str(v).strip() if v is not None and str(v).strip() else None
    who = who or SHEET_DEFAULT_CODER
    formulas = None  # the sheet as saved, formulas and not their values: read once, if needed

    def formula_check(cell) -> None:
        """A cell empty in the values may hold a formula whose value was never saved."""
        nonlocal formulas
        if formulas is None:
            formulas = load_workbook(p, data_only=False)[SHEET_CODING]
        saved = formulas[cell.coordinate]
        if saved.data_type == "f":
            text = saved.value if isinstance(saved.value, str) else getattr(saved.value, "text", "")
            raise SheetError(
                p,
                f"the cell holds a formula ({text}) without a saved value (the sheet was saved by "
                "a program that does not calculate formulas): open the sheet in Excel or "
                "LibreOffice and save it again, or type 0 or 1 instead of the formula",
                sheet=SHEET_CODING,
                cell=cell.coordinate,
            )

    out: list[tuple] = []
    seen: dict[str, str] = {}
    for row in rows[1:]:
        id_cell = row[col_of["unit_id"]] if col_of["unit_id"] < len(row) else None
        uid = "" if id_cell is None or id_cell.value is None else str(id_cell.value).strip()
        cells = [row[col_of[c]] if col_of[c] < len(row) else None for c in codes]
        values = [None if c is None else _cell_value(c.value) for c in cells]
        for cell, empty in ((id_cell, not uid), *((c, v is None) for c, v in zip(cells, values))):
            if empty and cell is not None:
                formula_check(cell)
        if not uid:
            if all(v is None for v in values):
                continue  # an empty row
            raise SheetError(
                p,
                "empty unit id in a row with codes",
                sheet=SHEET_CODING,
                cell=f"{get_column_letter(col_of['unit_id'] + 1)}{row[0].row}",
            )
        if uid not in known_set:
            raise SheetError(
                p, f"unknown unit id {uid!r}", sheet=SHEET_CODING, cell=id_cell.coordinate
            )
        if uid in seen:
            raise SheetError(
                p,
                f"unit id {uid!r} appears twice (first in {seen[uid]})",
                sheet=SHEET_CODING,
                cell=id_cell.coordinate,
            )
        seen[uid] = id_cell.coordinate
        if uncoded == "skip" and all(v is None for v in values):
            continue
        for code, cell, v in zip(codes, cells, values):
            where = (
                cell.coordinate
                if cell is not None
                else f"{get_column_letter(col_of[code] + 1)}{row[0].row}"
            )
            if v is None:
                raise SheetError(
                    p,
                    f"empty cell for code {code!r} of unit {uid!r}: enter 0 or 1",
                    sheet=SHEET_CODING,
                    cell=where,
                )
            if isinstance(v, str):
                raise SheetError(p, f"value {v!r} is not 0 or 1", sheet=SHEET_CODING, cell=where)
            out.append((who, uid, code, v))
    if uncoded == "error":
        absent = [u for u in known if u not in seen]
        if absent:
            raise SheetError(
                p,
                f"{len(absent)} unit(s) missing from the sheet (rows deleted?): "
                f"{', '.join(absent[:5])}{' …' if len(absent) > 5 else ''}",
                sheet=SHEET_CODING,
            )
    order = {u: i for i, u in enumerate(known)}
    df = pd.DataFrame(out, columns=CODING_COLUMNS)
    df = df.assign(_u=df["unit_id"].map(order)).sort_values("_u", kind="stable").drop(columns="_u")
    df["value"] = df["value"].astype("int64")
    return df.reset_index(drop=True)


def sheet_agreement_write(
    sheet: str | Path,
    codebook: Codebook,
    units: pd.DataFrame | Iterable[str],
    codings: pd.DataFrame,
    path: str | Path,
    *,
    reference: str,
    coders: Sequence[str],
    **kwargs,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read a returned second-coder sheet, write its agreement to ``path``; return both.

    The agreement is :func:`second_coder_agreement` (``kwargs`` passed on). Returns the sheet's
    codings (:func:`sheet_read`) and the agreement table.

    When the sheet cannot be used (a :class:`SheetError`) or anything else fails, the table an
    earlier run wrote to ``path`` is removed before the error is raised: left in place it would
    look like this run's result, for a sheet that was not read.
    """
    out = path_resolve(path)
    try:
        second = sheet_read(sheet, codebook, units)
        agreement = second_coder_agreement(
            codings, second, reference=reference, coders=coders, **kwargs
        )
        table_write(agreement, out)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    return second, agreement
