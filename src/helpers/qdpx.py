"""REFI-QDA export: the corpus, its units and a coding as a ``.qdpx`` project for CAQDAS tools.

A ``.qdpx`` file (REFI-QDA Project Exchange 1.0, read by NVivo, MAXQDA, ATLAS.ti and others) is a
zip archive with ``project.qde`` (XML, namespace ``urn:QDA-XML:project:1.0``) and the source files
under ``sources/``. :func:`qdpx_write` puts in it:

- one ``TextSource`` per document: the cleaned text ``data/processed/clean/<doc_id>.txt`` (UTF-8),
  stored as ``sources/<guid>.txt`` and referenced as ``internal://<guid>.txt``;
- the codebook: one parent ``Code`` per dimension (``isCodable="false"``) holding one ``Code`` per
  codebook code (``isCodable="true"``, a colour, the definition as description);
- one ``User`` per coder of the codings table (e.g. ``dictionary``);
- one ``PlainTextSelection`` per coded (coder, unit, code), named by the unit id, at the unit's
  ``start``/``end`` character offsets into the source text (from ``units_sentence.csv``), with one
  ``Coding`` referring to the code.

The XML is built from the ``pyrefiqda`` models (generated from the REFI-QDA ``Project.xsd``, so
element order and attribute names follow the schema) and serialised with ``xsdata``; the archive is
written here rather than by ``pyrefiqda``'s ``save`` because that stamps the current time on every
member. GUIDs are name-based (uuid5) and the timestamps fixed, so the same input writes the same
bytes.

Offsets are counted in Unicode code points, as Python indexes strings and as the standard defines
character positions; the corpus texts have no characters outside the Basic Multilingual Plane, where
tools counting UTF-16 units would disagree.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from pathlib import Path

import pandas as pd

from helpers.annotations import codings_validate
from helpers.codebook import Codebook
from helpers.errors import InputError
from helpers.tables import path_resolve, zip_normalize

NAMESPACE = "urn:QDA-XML:project:1.0"
GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:minning-text:qdpx")
PROJECT_FILE = "project.qde"
#: Colours of the codes, in codebook order (matplotlib's tab10; repeats after ten codes).
COLORS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def qdpx_guid(*parts: str) -> str:
    """Return the GUID of a project element named by ``parts`` (e.g. ``("code", "economic")``).

    A uuid5 (8-4-4-4-12 hex digits, as the schema requires) derived from the names, so the same
    element gets the same GUID in every export and exports can be compared or merged.
    """
    return str(uuid.uuid5(GUID_NAMESPACE, "/".join(parts)))


def code_name(codebook: Codebook, code_id: str) -> str:
    """Return the name a code gets in the CAQDAS project: ``经济逻辑 (economic)``."""
    c = codebook.code(code_id)
    return f"{c.label_zh} ({c.id})"


def qdpx_write(
    path: str | Path,
    units: pd.DataFrame,
    codebook: Codebook,
    codings: pd.DataFrame,
    texts_dir: str | Path,
    *,
    project_name: str = "闽宁协作 coding",
    timestamp: str = "2000-01-01T00:00:00Z",
) -> Path:
    """Write the corpus, codebook and codings as a REFI-QDA project (.qdpx); return its path.

    ``units`` needs doc_id, unit_id, start, end and text (``units_sentence.csv``); ``texts_dir``
    holds ``<doc_id>.txt``, the cleaned texts the offsets point into; ``codings`` is the long layout
    of :mod:`helpers.annotations` (coder, unit_id, code, value), of which the value-1 rows become
    coded selections. Raises ``ValueError`` if a unit's text is not at its offsets in the document
    (stale processed data), if a coded unit or code is unknown, or a document text is missing.
    """
    from pyrefiqda.models import (
        CodeRefType,
        CodingType,
        PlainTextSelectionType,
        Project,
        ProjectCodeBookType,
        ProjectCodesType,
        ProjectCodeType,
        SourcesType,
        TextSourceType,
        UsersType,
        UserType,
    )
    from xsdata.formats.dataclass.serializers.config import SerializerConfig
    from xsdata.models.datatype import XmlDateTime
    from xsdata_pydantic.bindings import XmlSerializer

    codings_validate(codings)
    missing = [c for c in ("doc_id", "unit_id", "start", "end", "text") if c not in units.columns]
    if missing:
        raise KeyError(f"units table has no column(s) {missing}")
    when = XmlDateTime.from_string(timestamp)
    tdir = path_resolve(texts_dir)
    doc_ids = list(pd.unique(units["doc_id"]))
    texts: dict[str, str] = {}
    for d in doc_ids:
        f = tdir / f"{d}.txt"
        if not f.exists():
            raise InputError(f, f"text of document {d!r} not found")
        texts[d] = f.read_text(encoding="utf-8")
    info = units.set_index("unit_id")
    for r in units.itertuples(index=False):
        s, e = int(r.start), int(r.end)
        if texts[r.doc_id][s:e] != str(r.text):
            raise ValueError(
                f"unit {r.unit_id!r}: the text at {s}-{e} of {r.doc_id}.txt is not the unit's "
                "text; re-run notebook 01"
            )

    coded = codings[codings["value"] == 1]
    unknown_units = sorted(set(coded["unit_id"]) - set(info.index))
    if unknown_units:
        raise ValueError(f"codings name unit(s) not in the units table: {unknown_units[:5]}")
    unknown_codes = sorted(set(coded["code"]) - set(codebook.ids))
    if unknown_codes:
        raise ValueError(f"codings name code(s) not in the codebook: {unknown_codes}")

    coders = list(pd.unique(codings["coder"]))
    users = UsersType(user=[UserType(guid=qdpx_guid("user", c), name=c) for c in coders])
    dims = list(dict.fromkeys([*codebook.dimensions, *(c.dimension for c in codebook.codes)]))
    parents = []
    for dim in dims:
        d = codebook.dimensions.get(dim, {})
        children = [
            ProjectCodeType(
                guid=qdpx_guid("code", c.id),
                name=code_name(codebook, c.id),
                is_codable=True,
                color=COLORS[codebook.ids.index(c.id) % len(COLORS)],
                description=c.definition,
            )
            for c in codebook.codes
            if c.dimension == dim
        ]
        parents.append(
            ProjectCodeType(
                guid=qdpx_guid("dimension", dim),
                name=f"{d.get('label_zh', dim)} ({dim})",
                is_codable=False,
                description=str(d.get("description", "")) or None,
                code=children,
            )
        )

    code_order = {c: i for i, c in enumerate(codebook.ids)}
    unit_order = {u: i for i, u in enumerate(units["unit_id"])}
    coded = coded.assign(
        _u=coded["unit_id"].map(unit_order),
        _c=coded["code"].map(code_order),
        _r=coded["coder"].map({c: i for i, c in enumerate(coders)}),
    )
    coded = coded.sort_values(["_u", "_c", "_r"], kind="stable")
    selections: dict[str, list] = {d: [] for d in doc_ids}
    # looked up in dicts, not with .loc per selection: the selections grow with the corpus
    doc_of, start_of, end_of = (info[c].to_dict() for c in ("doc_id", "start", "end"))
    for r in coded.itertuples(index=False):
        user = qdpx_guid("user", r.coder)
        selections[doc_of[r.unit_id]].append(
            PlainTextSelectionType(
                guid=qdpx_guid("selection", r.coder, r.unit_id, r.code),
                name=r.unit_id,
                start_position=int(start_of[r.unit_id]),
                end_position=int(end_of[r.unit_id]),
                creating_user=user,
                creation_date_time=when,
                coding=[
                    CodingType(
                        guid=qdpx_guid("coding", r.coder, r.unit_id, r.code),
                        code_ref=CodeRefType(target_guid=qdpx_guid("code", r.code)),
                        creating_user=user,
                        creation_date_time=when,
                    )
                ],
            )
        )
    sources = []
    for d in doc_ids:
        g = qdpx_guid("source", d)
        sources.append(
            TextSourceType(
                guid=g,
                name=d,
                plain_text_path=f"internal://{g}.txt",
                creating_user=qdpx_guid("user", coders[0]),
                creation_date_time=when,
                plain_text_selection=selections[d],
            )
        )
    project = Project(
        name=project_name,
        origin="minning-text helpers.qdpx",
        creating_user_guid=qdpx_guid("user", coders[0]),
        creation_date_time=when,
        users=users,
        code_book=ProjectCodeBookType(codes=ProjectCodesType(code=parents)),
        sources=SourcesType(text_source=sources),
    )
    xml = XmlSerializer(
        config=SerializerConfig(xml_declaration=True, encoding="UTF-8", indent="  ")
    ).render(project, ns_map={None: NAMESPACE})

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(PROJECT_FILE, xml.encode("utf-8"))
        for d in doc_ids:
            z.writestr(f"sources/{qdpx_guid('source', d)}.txt", texts[d].encode("utf-8"))
    return zip_normalize(buffer.getvalue(), path)


def qdpx_read(path: str | Path) -> pd.DataFrame:
    """Read a .qdpx project's coded text selections; return one row per (selection, coding).

    Exists to check an export (and to look into a project coded in a CAQDAS tool): the archive is
    read in memory (nothing is extracted), the XML walked with ElementTree (a model-based parse
    took about 11 of notebook 05's CPU seconds at 500 added documents) and each selection's text
    taken from its source file at its offsets. Columns: source, selection (its name: the unit id in
    our exports), start, end, code (name), code_guid, coder (user name), text.
    """
    import xml.etree.ElementTree as ET

    p = path_resolve(path)
    with zipfile.ZipFile(p) as z:
        qde = [n for n in z.namelist() if n.endswith(".qde")]
        if not qde:
            raise InputError(p, "no .qde project file in the archive")
        try:
            root = ET.fromstring(z.read(qde[0]))
        except ET.ParseError as exc:
            raise InputError(p, f"{qde[0]} is not well-formed XML: {exc}") from None
        members = {n: z.read(n) for n in z.namelist() if n.startswith("sources/")}
    if root.tag != f"{{{NAMESPACE}}}Project":
        raise InputError(p, f"{qde[0]} is not a REFI-QDA project (root element {root.tag})")
    ns = {"q": NAMESPACE}
    codes = {c.get("guid"): c.get("name", "") for c in root.iterfind("q:CodeBook//q:Code", ns)}
    users = {u.get("guid"): u.get("name", "") for u in root.iterfind("q:Users/q:User", ns)}
    rows = []
    for src in root.iterfind("q:Sources/q:TextSource", ns):
        text, where = None, src.get("plainTextPath") or ""
        content = src.find("q:PlainTextContent", ns)
        if where.startswith("internal://"):
            data = members.get("sources/" + where[len("internal://") :])
            text = data.decode("utf-8-sig") if data is not None else None
        elif content is not None:
            text = content.text or ""
        for sel in src.iterfind("q:PlainTextSelection", ns):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            for coding in sel.iterfind("q:Coding", ns):
                ref = coding.find("q:CodeRef", ns)
                target = ref.get("targetGUID") if ref is not None else ""
                rows.append(
                    {
                        "source": src.get("name"),
                        "selection": sel.get("name"),
                        "start": start,
                        "end": end,
                        "code": codes.get(target, ""),
                        "code_guid": target,
                        "coder": users.get(
                            coding.get("creatingUser") or sel.get("creatingUser"), ""
                        ),
                        "text": text[start:end] if text is not None else None,
                    }
                )
    return pd.DataFrame(
        rows, columns=["source", "selection", "start", "end", "code", "code_guid", "coder", "text"]
    )


def qdpx_diff(segments: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Return the coded segments whose text is not their unit's text: empty when the export is true.

    ``segments`` from :func:`qdpx_read` (a selection is named by its unit id), ``units`` with
    ``unit_id`` and ``text``. A segment whose selection names no unit is listed too, with an empty
    ``text_unit``. Exists so that notebook 05 can check, after writing a project, that every coded
    selection's offsets cut exactly its unit out of the source text. Columns: those of
    ``segments`` and ``text_unit``.
    """
    text = units.drop_duplicates("unit_id").set_index("unit_id")["text"]
    out = segments.assign(text_unit=segments["selection"].map(text))
    return out[out["text"] != out["text_unit"]].reset_index(drop=True)
