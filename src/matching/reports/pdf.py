"""A report's printable page as a PDF, made by WeasyPrint from the very HTML the page shows (its print stylesheet,
its SVG charts, its small numbers already withheld), so the PDF can never say more than the page.

WeasyPrint is imported when a PDF is asked for: it loads pango and fonts, which the rest of the service never
needs."""

import logging
import mimetypes
from functools import cache, lru_cache
from pathlib import Path

# The page's stylesheets are linked as /static/...: they resolve against the HTML's base URL (the service's own,
# so the report's links work from the PDF), and the fetcher below reads them from disk. Without a request (the
# command line) the base is a name that cannot resolve (.invalid, RFC 2606).
ORIGIN = "https://springboard.invalid"
PDF_TYPE = "application/pdf"


def _fetcher(static: Path, base_url: str):
    """WeasyPrint's URL fetcher, limited to the service's own static files read from disk: a report's PDF never
    fetches anything over the network (no request to the service itself, nor anywhere a link might point)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    root = static.resolve()

    class StaticFiles(URLFetcher):
        def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
            prefix = f"{base_url}/static/"
            if not url.startswith(prefix):
                raise ValueError("a report's PDF reads only the service's static files")
            path = (root / url.removeprefix(prefix).split("?")[0]).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                raise ValueError("not one of the service's static files")
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})

    return StaticFiles()


# Paper, on top of the page's own print rules: A4 with its page numbers, the screen's width container and grey
# canvas let go, and tables smaller so that one of eight columns fits the page's width instead of running off it.
# WeasyPrint takes these as the reader's stylesheet, which yields to the page's own rules unless !important.
PAPER = """
@page { size: A4; margin: 15mm 15mm 20mm;
        @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 9pt arial, sans-serif; } }
html { background: #fff !important; }
body, .govuk-template__body { font-family: arial, sans-serif !important; }
.govuk-width-container { max-width: none !important; margin: 0 !important; }
.govuk-main-wrapper { padding-top: 0 !important; }
.govuk-table__header, .govuk-table__cell, .govuk-table__caption { font-size: 9pt !important;
        padding: 4px 6px 4px 0 !important; }
h1, h2, .govuk-table__caption { break-after: avoid; }
tr, figure { break-inside: avoid; }
"""


def from_html(html: str, static: Path, base_url: str = ORIGIN) -> bytes:
    """The PDF of a page's HTML, printed as the page prints (its `@media print` rules apply); `base_url` (no
    trailing slash) is where the page's links point, and `static` the folder its /static/ files are read from.
    A tagged PDF (PDF/UA), so that a screen reader can read the published report as it reads the page."""
    from weasyprint import HTML

    # GOV.UK Frontend's stylesheet has rules WeasyPrint does not read (media queries without a media type, and
    # properties it does not know); it says so, rule by rule, in warnings on every PDF. They are not problems.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    page = HTML(string=html, base_url=f"{base_url}/", url_fetcher=_fetcher(static, base_url), media_type="print")
    return page.write_pdf(stylesheets=[*_own_stylesheets(page, static, base_url), _paper()], pdf_variant="pdf/ua-1")


def _own_stylesheets(page, static: Path, base_url: str) -> list:
    """The page's links to the service's own stylesheets (/static/...css), taken out of the parsed page and given
    back parsed, in the page's order, from the process's cache: WeasyPrint would otherwise parse GOV.UK
    Frontend's 135 kB stylesheet again for every PDF (about a quarter of a PDF's time). Given to `write_pdf` they
    are the reader's stylesheets rather than the page's: the same rules, and `PAPER`, given after them, still
    wins where it says !important."""
    found = []
    for parent in page.etree_element.iter():
        for link in [child for child in parent if child.tag == "link"]:
            href, rel = link.get("href", ""), (link.get("rel") or "").split()
            name = href.removeprefix("/static/").split("?")[0]
            path = (static.resolve() / name).resolve()
            if "stylesheet" in rel and not link.get("media") and href.startswith("/static/") and name.endswith(".css") \
                    and path.is_relative_to(static.resolve()) and path.is_file():
                parent.remove(link)
                found.append(_stylesheet(static.resolve(), name, base_url))
    return found


# Keyed by the base URL too, so that url() values resolve as the page's own would; a few at most (one service,
# one address), bounded so that requests with made-up Host headers cannot fill the memory.
@lru_cache(maxsize=8)
def _stylesheet(static: Path, name: str, base_url: str):
    """One of the service's static stylesheets, parsed once per process and base URL."""
    from weasyprint import CSS

    text = (static / name).read_text(encoding="utf-8")
    return CSS(string=text, base_url=f"{base_url}/static/{name}", url_fetcher=_fetcher(static, base_url),
               media_type="print")


@cache
def _paper():
    from weasyprint import CSS

    return CSS(string=PAPER, media_type="print")
