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
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

__all__ = ["PRODUCTS", "Product", "product_path"]


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
