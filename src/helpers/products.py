"""The files the notebooks write, each named once.

A product is a file (or folder) a notebook writes under one of its folder parameters
(``processed_dir``, ``tables_dir``, ``extra_dir``, as in ``pipeline.yaml``). :data:`PRODUCTS`
gives each product's folder parameter, file name and the notebook that writes it; notebooks and
modules build the path with :func:`product_path` instead of spelling the file name, so a product
renamed here is renamed for every stage that writes or reads it::

    units = table_read(product_path(f"units_{unit_level}", processed_dir))

Tables whose names depend on the data (``summary_by_<variable>.csv``) and figures are named by the
functions that write them (:func:`helpers.summaries.summaries_write`,
:func:`helpers.groups.groups_write`, :func:`helpers.plots.figure_save`). ``pipeline.yaml`` keeps
the globs the runner uses (``reads``/``writes``); a test checks that they cover every product here.

Tables that grow with the units (one row per unit, per piece of evidence, per number) are declared
in :data:`BUDGETS` with the rows they may keep in the committed ``outputs/tables``: a longer table
is written whole to the folder ``extra`` beside it (``outputs/extra``, not in git) and the committed
file keeps a bounded part and says so in its last line (:func:`helpers.tables.table_write`).
Readers get the whole table (:func:`helpers.tables.table_read`). With the two corpus documents no
budget is reached, so the committed tables are the whole tables.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from types import MappingProxyType

__all__ = ["BUDGETS", "PRODUCTS", "Budget", "Product", "budget_of", "product_path"]


@dataclass(frozen=True)
class Product:
    """Where a product is: ``folder`` (a folder parameter), ``file`` inside it, ``notebook`` (the
    number of the notebook that writes it, as in its file name)."""

    folder: str
    file: str
    notebook: str


def _declare(notebook: str, folder: str, *files: str) -> dict[str, Product]:
    """Return the products of ``files`` by name: the file name without its suffix."""
    return {Path(f).stem if "." in f else f: Product(folder, f, notebook) for f in files}


#: Every product by name (the file name without suffix, except ``clean_texts``).
PRODUCTS: MappingProxyType[str, Product] = MappingProxyType(
    {
        # 01 text cleanup
        **_declare("01", "processed_dir", "units_sentence.csv", "units_paragraph.csv"),
        "clean_texts": Product("processed_dir", "clean", "01"),  # one <doc_id>.txt per document
        **_declare(
            "01",
            "tables_dir",
            "cleanup_summary.csv",
            "cleanup_audit.csv",
            "cleanup_joins.csv",
            "cleanup_metadata.csv",
            "cleanup_problems.csv",
        ),
        # 02 segmentation and frequency
        **_declare("02", "processed_dir", "tokens.csv"),
        **_declare(
            "02",
            "tables_dir",
            "lexical_dictionary_check.csv",
            "lexical_frequency.csv",
            "lexical_keywords.csv",
            "lexical_keyness.csv",
            "lexical_kwic.csv",
            "lexical_cooccurrence_nodes.csv",
            "lexical_cooccurrence_edges.csv",
        ),
        **_declare("02", "extra_dir", "lexical_keyness_full.csv"),
        # 03 thematic coding
        **_declare(
            "03",
            "tables_dir",
            "coding_lint.csv",
            "coding_evidence.csv",
            "coding_units.csv",
            "coding_counts.csv",
            "coding_uncoded.csv",
            "coding_quotes.csv",
            "coding_review.xlsx",
        ),
        # 05 coding reliability
        **_declare(
            "05",
            "tables_dir",
            "reliability_documents.csv",
            "validation_coding_units.csv",
            "validation_agreement_by.csv",
            "validation_disagreements.csv",
            "reliability_validity.csv",
            "reliability_dictionary_dev.csv",
            "reliability_dictionary_holdout.csv",
            "reliability_targets.csv",
            "reliability_human.csv",
            "reliability_disagreements.csv",
            "codebook_suggestions_terms.csv",
            "codebook_suggestions_indicators.csv",
            "reliability_second_opinion.csv",
            "reliability_second_coder.csv",
            "second_coder_sheet.xlsx",
            "minning.qdpx",
        ),
    }
)


def product_path(name: str, folder: str | Path) -> Path:
    """Return the path of product ``name`` in ``folder`` (the value of its folder parameter).

    An unknown name raises ``KeyError`` naming the declared ones closest to it (a misspelt name,
    or ``unit_level = "sentences"`` in ``units_{unit_level}``), so the run stops at the line that
    made it rather than at a missing file later.
    """
    try:
        product = PRODUCTS[name]
    except KeyError:
        close = difflib.get_close_matches(name, PRODUCTS, n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}?" if close else "declare it there"
        raise KeyError(
            f"no product {name!r} is declared in helpers.products (src/helpers/products.py); {hint}"
        ) from None
    return Path(folder) / product.file


@dataclass(frozen=True)
class Budget:
    """What a committed table may keep: ``rows`` rows (the first ones in the table's own order, or
    with ``per`` a column name, the first ``rows // groups`` rows of each of its values, at least
    one each), and text cells of at most ``chars`` characters (None: any length; a longer cell
    keeps its start and ends in ``…``). The whole table goes to the folder ``extra`` beside it."""

    rows: int
    per: str | None = None
    chars: int | None = None


#: The committed row budget of each table that grows with the units or the documents, by file
#: name (products and the data-named summary tables alike; a key with ``*`` is a pattern). Sized
#: so that 500 added documents keep ``outputs/tables`` + ``outputs/figures`` under 30 MB and no
#: budget is reached with the two corpus documents (``tests/test_budgets.py`` checks both).
BUDGETS: MappingProxyType[str, Budget] = MappingProxyType(
    {
        # 02: every term of every document; every edge with the ids of the units it joins
        "lexical_frequency.csv": Budget(10_000, per="group"),
        "lexical_cooccurrence_edges.csv": Budget(2_000, chars=600),
        "lexical_kwic.csv": Budget(1_500, per="doc_id"),
        # 03: every unit and every piece of evidence, and the review workbook of coded units
        "coding_units.csv": Budget(2_000, per="doc_id"),
        "coding_evidence.csv": Budget(5_000, per="doc_id"),
        "coding_uncoded.csv": Budget(1_500, per="doc_id"),
        "coding_review.xlsx": Budget(500),  # rows per sheet
        # 04: every document's and section's share, every number cited, the groups' unit ids
        "summary_frequency.csv": Budget(2_000, chars=2_000),
        "summary_section_profile.csv": Budget(5_000, per="doc_id", chars=2_000),
        "summary_section_dominant.csv": Budget(2_000, per="doc_id"),
        "summary_numbers.csv": Budget(1_500, per="doc_id"),
        "summary_numbers_excluded.csv": Budget(1_000, per="doc_id"),
        "summary_by_*.csv": Budget(1_000, chars=2_000),
    }
)


def budget_of(path: str | Path) -> Budget | None:
    """Return the committed budget of the table at ``path`` (by its file name), or None."""
    name = Path(path).name
    if name in BUDGETS:
        return BUDGETS[name]
    return next((b for key, b in BUDGETS.items() if "*" in key and fnmatch(name, key)), None)
