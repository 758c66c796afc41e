"""Reading the report back as a browser would: its tables (by caption), each row's cell
texts and images, with the standard library's HTML parser (no regex on markup)."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Row:
    section: str = "tbody"  # thead, tbody or tfoot
    cells: list[str] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " | ".join(self.cells)


@dataclass
class Page:
    tables: dict[str, list[Row]] = field(default_factory=dict)
    attrs: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # every start tag
    text: list[str] = field(default_factory=list)

    def table(self, caption_start: str, section: str = "tbody") -> list[Row]:
        """The rows of ``section`` of the one table whose caption starts so."""
        hits = [rows for caption, rows in self.tables.items() if caption.startswith(caption_start)]
        assert len(hits) == 1, f"{len(hits)} tables captioned {caption_start!r}: {list(self.tables)}"
        return [r for r in hits[0] if r.section == section]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self._caption: list[str] | None = None
        self._rows: list[Row] | None = None
        self._cell: list[str] | None = None
        self._section = "tbody"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.page.attrs.append((tag, a))
        if tag == "table":
            self._rows, self._caption_text, self._section = [], "", "tbody"
        elif tag == "caption":
            self._caption = []
        elif tag in ("thead", "tbody", "tfoot"):
            self._section = tag
        elif tag == "tr" and self._rows is not None:
            self._rows.append(Row(self._section))
        elif tag in ("td", "th") and self._rows:
            self._cell = []
        elif tag == "img" and self._rows:
            self._rows[-1].images.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self._caption_text = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].cells.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.page.tables[self._caption_text] = [r for r in self._rows if r.cells]
            self._rows = None

    def handle_data(self, data: str) -> None:
        self.page.text.append(data)
        for sink in (self._caption, self._cell):
            if sink is not None:
                sink.append(data)


def parse(html: str) -> Page:
    p = _Parser()
    p.feed(html)
    p.close()
    return p.page
