"""Main-content extraction of saved web pages: trafilatura (as the project runs it) against
readability-lxml, on the page fixtures and their references.

For every ``.html`` page with a ``.yaml`` reference (``tests/fixtures/html/`` and
``tests/fixtures/pages/``) and every extractor, prints: body sentences of the reference found in the
extracted text (recovered), furniture strings of the reference found in it (leaked), whether a page
without main text was refused, and milliseconds per page (best of ``--repeat`` runs). Texts are
compared after the project's normalisation (``text.text_normalize``) and without whitespace.

Extractors: ``trafilatura`` as :func:`helpers.html.html_extract` runs it (layout tables unwrapped,
fallback threshold for Chinese, no comments, tables kept); ``trafilatura-defaults`` (plain
``trafilatura.extract`` with comments off); ``readability`` (readability-lxml's
``Document.summary``, skipped when the package is not installed: it is not a project dependency;
``pip install readability-lxml`` to include it).

    .venv/bin/python benchmarks/bench_html.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from helpers import corpus
from helpers.html import html_decode, html_extract
from helpers.text import text_normalize

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_DIRS = (ROOT / "tests" / "fixtures" / "html", ROOT / "tests" / "fixtures" / "pages")


def _ws(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _normalised(text: str) -> str:
    return _ws("\n".join(text_normalize(line) for line in text.split("\n")))


def extract_project(html: str) -> str:
    """The project's extraction (title line included), or '' for a page it refuses."""
    try:
        return html_extract(html).text
    except corpus.DocumentError:
        return ""


def extract_trafilatura_defaults(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=False, deduplicate=False) or ""


def extract_readability(html: str) -> str:
    import lxml.html
    from readability import Document

    doc = Document(html)
    summary = lxml.html.fromstring(doc.summary())
    text = "\n".join(t.strip() for t in summary.itertext() if t.strip())
    return f"{doc.short_title()}\n{text}"


def extractors() -> dict[str, Callable[[str], str]]:
    """Return the extractors to compare; readability only when it is installed."""
    found = {"trafilatura": extract_project, "trafilatura-defaults": extract_trafilatura_defaults}
    try:
        import readability  # noqa: F401
    except ImportError:
        print("readability-lxml not installed: skipped (pip install readability-lxml)")
    else:
        found["readability"] = extract_readability
    return found


def pages() -> list[tuple[Path, dict]]:
    """Return ``(page, reference)`` for every .html fixture that has a .yaml reference."""
    out = []
    for folder in FIXTURE_DIRS:
        for page in sorted(folder.glob("*.htm*")):
            ref = page.with_suffix(".yaml")
            if ref.exists():
                out.append((page, yaml.safe_load(ref.read_text(encoding="utf-8"))))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--repeat", type=int, default=5, help="runs per page and extractor (best is kept)"
    )
    args = ap.parse_args()
    found = pages()
    rows = []
    for page, ref in found:
        html, _ = html_decode(page.read_bytes(), path=page)
        body = [_normalised(s) for s in ref.get("body", [])]
        furniture = [_normalised(str(f)) for f in ref.get("furniture", [])]
        for name, extract in extractors().items():
            best = float("inf")
            for _ in range(args.repeat):
                start = time.perf_counter()
                text = extract(html)
                best = min(best, time.perf_counter() - start)
            flat = _normalised(text)
            row = {
                "page": f"{page.parent.name}/{page.name}",
                "extractor": name,
                "body": f"{sum(s in flat for s in body)}/{len(body)}",
                "leaked": f"{sum(f in flat for f in furniture)}/{len(furniture)}",
                "ms": round(best * 1000, 1),
                "_body": (sum(s in flat for s in body), len(body)),
                "_leaked": (sum(f in flat for f in furniture), len(furniture)),
            }
            if ref.get("problem"):
                row["body"] = "refused" if not text.strip() else f"kept {len(flat)} chars"
            rows.append(row)
    header = ["page", "extractor", "body", "leaked", "ms"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row[h]) for h in header) + " |")
    print()
    print(
        "| extractor | body sentences recovered | furniture leaked | no-text pages refused "
        "| ms per page (mean of best) |"
    )
    print("|---|---|---|---|---|")
    for name in dict.fromkeys(r["extractor"] for r in rows):
        mine = [r for r in rows if r["extractor"] == name]
        got = sum(r["_body"][0] for r in mine)
        total = sum(r["_body"][1] for r in mine)
        leak = sum(r["_leaked"][0] for r in mine)
        leak_total = sum(r["_leaked"][1] for r in mine)
        refused = sum(r["body"] == "refused" for r in mine)
        problems = sum(1 for p, ref in found if ref.get("problem"))
        ms = sum(r["ms"] for r in mine) / len(mine)
        print(f"| {name} | {got}/{total} | {leak}/{leak_total} | {refused}/{problems} | {ms:.1f} |")
    print(
        f"\n{len(found)} pages, best of {args.repeat} runs each; "
        "timings on a shared machine are noisy."
    )


if __name__ == "__main__":
    main()
