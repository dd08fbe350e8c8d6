"""The report's executed-notebook pages, offline, and its CJK font.

:func:`notebook_html` renders an executed notebook to an HTML page with nbconvert; every reference
to other hosts is removed (:func:`html_offline`: MathJax, require.js and mermaid on CDNs; the
notebooks contain no formulas or diagrams), so nothing is fetched when the page is opened.
:func:`font_subset` cuts the project's CJK font (Noto Sans CJK SC) down to the characters on the
pages, so Chinese renders on a machine without Chinese fonts.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from helpers import paths
from helpers.jupyter import iri_checks_skipped
from helpers.tables import bytes_write, text_write

_EXTERNAL = re.compile(
    r"<script[^>]+src=\"https?://[^\"]*\"[^>]*>\s*</script>|<link[^>]+href=\"https?://[^\"]*\"[^>]*>",
    re.IGNORECASE,
)
_MATHJAX_BLOCK = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.DOTALL
)
_REMOTE_SCRIPT = re.compile(
    r"<script[^>]*>(?:(?!</script>).)*?https?://(?:(?!</script>).)*?</script>", re.DOTALL
)
#: What a browser would fetch: script/link/img sources, module imports and CSS urls on other hosts.
REMOTE_REFERENCE = re.compile(
    r"""(?:src|href)=["']https?://|import\(["']https?://|url\(["']?https?://"""
)
FONT_FAMILY = "Report CJK"
FONT_FILE = "fonts/report-cjk.woff"


def font_face(url: str) -> str:
    return (
        "@font-face { font-family: '" + FONT_FAMILY + "'; src: url('" + url + "') format('woff'); }"
    )


NOTEBOOK_HTML_CACHE: Path = paths.CACHE / "notebook_html"
_NOTEBOOK_HTML_KEEP = 20  # rendered pages kept in the cache (a few runs' worth)


def notebook_html(
    executed: Path,
    out: Path,
    *,
    font_url: str | None = None,
    cache_dir: str | Path | None = NOTEBOOK_HTML_CACHE,
) -> Path:
    """Render an executed notebook to an offline HTML page and return its path.

    With ``font_url`` (relative to the page) the page uses the report's embedded CJK font first, so
    Chinese renders on a machine without Chinese fonts. A notebook that did not run again since the
    last report (after a codebook edit: 01 and 02) is not rendered again: the page is kept in
    ``cache_dir`` under a hash of the executed notebook, ``font_url``, nbconvert's version and this
    module's code (``None``: no cache).
    """
    import hashlib
    from importlib.metadata import version

    cached = None
    if cache_dir is not None:
        key = hashlib.sha256()
        for part in (
            Path(executed).read_bytes(),
            str(font_url).encode(),
            version("nbconvert").encode(),
            Path(__file__).read_bytes(),
        ):
            key.update(hashlib.sha256(part).digest())
        cached = Path(cache_dir) / f"{key.hexdigest()[:32]}.html"
        if cached.exists():
            return text_write(cached.read_bytes().decode("utf-8"), out)  # "\r" kept
    body = _notebook_render(executed, font_url)
    if cached is not None:
        text_write(body, cached)
        # a notebook run again never matches its old page: keep the newest pages only
        pages = sorted(cached.parent.glob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in pages[_NOTEBOOK_HTML_KEEP:]:
            old.unlink(missing_ok=True)
    return text_write(body, out)


#: nbconvert's lab template, with the code of a cell shown as Pygments highlights it. The lab
#: template passes that through bleach (``clean_html``), which only re-serializes Pygments' own
#: spans: a third of the rendering time.
_PAGE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{% block input %}
<div class="jp-CodeMirrorEditor jp-Editor jp-InputArea-editor" data-type="inline">
     <div class="cm-editor cm-s-jupyter">
{{ cell.source | highlight_code(metadata=cell.metadata) }}
     </div>
</div>
{%- endblock input %}
"""
#: The cell inputs and outputs a keyboard can scroll to, and images without a description: what
#: nbconvert's HTML exporter marks after rendering (``tabindex="0"``, an ``alt`` text).
_FOCUSABLE = re.compile(
    r'<div class="(jp-Cell-inputWrapper|[^"]*(?<![\w-])jp-OutputArea-output(?![\w-])[^"]*)"'
)
_IMAGE_WITHOUT_ALT = re.compile(r"<img(?![^>]*\salt=)(?=\s)")
_NO_ALT = "No description has been provided for this image"


@lru_cache(maxsize=1)
def _html_exporter():
    """One nbconvert exporter for every page: building one loads its templates (~0.4 s)."""
    with iri_checks_skipped():
        from nbconvert.exporters.html import HTMLExporter
        from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class PageExporter(HTMLExporter):
        """nbconvert's HTML exporter without its BeautifulSoup pass over the finished page.

        That pass (half of the rendering time) adds ``alt`` texts and ``tabindex``;
        :func:`_notebook_render` adds the same attributes to the tags the template writes.
        """

        def from_notebook_node(self, nb, resources=None, **kw):
            # what HTMLExporter.from_notebook_node does before rendering (nbconvert 7.17)
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            highlight_code = self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
            )
            resources = self._init_resources(resources)
            filter_data_type = WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources
            )
            self.register_filter("highlight_code", highlight_code)
            self.register_filter("filter_data_type", filter_data_type)
            return TemplateExporter.from_notebook_node(self, nb, resources, **kw)

    return PageExporter(template_name="lab", raw_template=_PAGE_TEMPLATE)


def _notebook_render(executed: Path, font_url: str | None) -> str:
    exporter = _html_exporter()  # imports nbformat
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    body, _ = exporter.from_notebook_node(nb)
    body = _FOCUSABLE.sub(r'<div class="\1" tabindex="0"', body)
    body = _IMAGE_WITHOUT_ALT.sub(f'<img alt="{_NO_ALT}"', body)
    body = html_offline(body)
    if font_url:
        style = (
            "<style>"
            + font_face(font_url)
            + " body, .jp-RenderedHTMLCommon, .jp-OutputArea-output pre, code "
            + f"{{ font-family: '{FONT_FAMILY}', "
            "var(--jp-content-font-family), sans-serif; }</style>"
        )
        body = body.replace("</head>", style + "</head>", 1)
    return body


def font_subset(texts: list[str], out: Path) -> Path:
    """Write the project's CJK font cut down to the characters of ``texts`` (WOFF); return its path.

    ``texts`` are HTML pages: the characters are those a browser shows, character references
    decoded (``&nbsp;``). The report then shows Chinese with the same font as the figures on any
    machine, offline, at a fraction of the 16 MB of the whole font.
    """
    import html
    import io

    from helpers.plots import FONT_CACHE, font_path, font_subset_cached

    # set(text) runs in C: the pages are megabytes of base64
    used = set().union(*(set(html.unescape(text)) for text in texts))
    chars = "".join(
        sorted({ch for ch in used if ord(ch) > 0x7F} | set(map(chr, range(0x20, 0x7F))))
    )

    def build() -> bytes:
        from fontTools import subset

        options = subset.Options()
        options.flavor = "woff"
        options.layout_features = ["*"]
        font = subset.load_font(str(font_path()), options)
        sub = subset.Subsetter(options)
        sub.populate(text=chars)
        sub.subset(font)
        buffer = io.BytesIO()
        subset.save_font(font, buffer, options)
        return buffer.getvalue()

    # the same characters give the same bytes: cut once, then from .cache/fonts
    return bytes_write(font_subset_cached("report-woff", chars, build, FONT_CACHE), out)


def html_offline(page: str) -> str:
    """Return ``page`` without anything a browser would fetch from other hosts.

    MathJax, require.js and mermaid: nbconvert's templates load them from CDNs.
    """
    page = _MATHJAX_BLOCK.sub("", page)
    page = _REMOTE_SCRIPT.sub(
        "", page
    )  # e.g. nbconvert's mermaid loader (our notebooks have no diagrams)
    return _EXTERNAL.sub("", page)
