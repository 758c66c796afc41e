"""The figures README.md and docs/benchmarks.md quote in their tables are the ones
docs/figures/*.json holds (issue 21, item 1): every table of figures sits between
``<!-- figures:NAME -->`` markers and is what ``benchmarks/figures.py --write`` writes from
the JSON; the templates carry no figure of their own."""

from __future__ import annotations

import copy
import json
import re
from decimal import Decimal

import pytest

from benchmarks import figures

DOC_TEXT = {doc: (figures.ROOT / doc).read_text(encoding="utf-8") for doc in figures.DOCS}


@pytest.mark.parametrize("name", sorted(figures.TABLES))
def test_every_figures_table_is_marked_in_its_doc(name: str) -> None:
    doc, _ = figures.TABLES[name]
    assert name in figures.blocks(DOC_TEXT[doc]), f"{doc} has no <!-- figures:{name} --> block"


@pytest.mark.parametrize("doc", figures.DOCS)
def test_every_marked_block_is_a_figures_table(doc: str) -> None:
    found = re.findall(r"^<!-- figures:([a-z0-9-]+) -->$", DOC_TEXT[doc], re.M)
    assert len(found) == len(set(found)), f"{doc}: a figures block is marked twice"
    for name in found:
        assert name in figures.TABLES and figures.TABLES[name][0] == doc, f"{doc}: unknown figures block {name!r}"
    closed = re.findall(r"^<!-- /figures -->$", DOC_TEXT[doc], re.M)
    assert len(closed) == len(found) == len(figures.blocks(DOC_TEXT[doc])), f"{doc}: a figures block is not closed"


@pytest.mark.parametrize("name", sorted(figures.TABLES))
def test_the_quoted_table_is_the_one_the_json_makes(name: str) -> None:
    doc, _ = figures.TABLES[name]
    quoted = figures.blocks(DOC_TEXT[doc]).get(name)
    assert quoted == figures.render(name), (
        f"the {name!r} table in {doc} is not what docs/figures/*.json holds: "
        "run .venv/bin/python benchmarks/figures.py --write (or fix the JSON)")


def _cells(row: str) -> list[str]:
    # cells of a markdown row; a placeholder's ``|`` would not survive, and none has one
    return [c.strip() for c in row.strip().strip("|").split("|")]


@pytest.mark.parametrize("name", sorted(figures.TABLES))
def test_a_template_quotes_no_figure_of_its_own(name: str) -> None:
    """Outside the row's label columns, every number in a row is a placeholder (or inside a
    `code` span: a command's arguments), so no figure is typed into a template."""
    _, rows = figures.TABLES[name]
    labels = figures.LABEL_COLUMNS.get(name, 1)
    for row in rows()[2:]:  # below the header and its rule
        for cell in _cells(row)[labels:]:
            literal = re.sub(r"`[^`]*`", "", figures.PLACEHOLDER.sub("", cell))
            assert not re.search(r"\d", literal), f"{name}: {cell!r} has a figure that is not from the JSON"


def test_every_figures_file_says_how_it_was_made() -> None:
    files = sorted(figures.FIGURES.glob("*.json"))
    assert files
    for path in files:
        data = json.loads(path.read_text(encoding="utf-8"))
        text = json.dumps(data)
        assert "benchmarks/" in text, f"{path.name}: no command (benchmarks/...) that makes its figures"
        assert data.get("what"), f"{path.name}: no 'what'"


def test_every_figures_file_is_used() -> None:
    used = {m.group(1).split("/")[0] for _, rows in figures.TABLES.values() for row in rows()
            for m in figures.PLACEHOLDER.finditer(row)}
    assert used == {p.stem for p in figures.FIGURES.glob("*.json")}


@pytest.mark.parametrize(("value", "spec", "printed"), [
    (Decimal("0.9964"), ".3f", "0.996"),
    (Decimal("0.0045"), ".3f", "0.005"),  # half up, as score.py's figure was printed (not 0.004 of a float)
    (Decimal("0.9315"), ".3f", "0.932"),
    (Decimal("0.98"), ".3f", "0.980"),
    (Decimal("0.9964"), "+.3f", " (0.9964)"),
    (Decimal("0.980"), "+.3f", ""),
    (3556, ",", "3,556"),
    (Decimal("13.6"), ",", "13.6"),
    (Decimal("2.27"), "", "2.27"),
    (1000, ",", "1,000"),
])
def test_a_figure_is_printed_at_its_precision(value: object, spec: str, printed: str) -> None:
    assert figures.number(value, spec) == printed


def test_a_changed_figure_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    data = copy.deepcopy(figures.load("index"))
    data["mih"]["1m"]["p50_ms"] = Decimal("2.31")
    monkeypatch.setitem(figures._loaded, "index", data)
    text = DOC_TEXT["README.md"]
    assert figures.rewritten(text) != text
    assert "2.31 ms, 0.075, recall 1.000" in figures.rewritten(text)


#: a threshold, not a measurement: a number after a comparison (``≥ 0.98``, ``< 150 ms``,
#: ``below muAP 0.93``, ``the goal of 0.005``), and a version (``Python 3.11``), may stand
#: in the running text
_THRESHOLD = re.compile(r"(?:[≥≤<>]|\bbelow|\babove|\bgoal of|\bPython)\s*(?:[A-Za-z_@]+\s+)?\d[\d.,]*")
#: a measured figure: a decimal, or a number with a unit of time, a ratio or a percentage
_FIGURE = re.compile(r"\d+\.\d+|\b\d[\d,]*\s?(?:ms|s|×|x|%|MiB|MB|GB)(?![\w-])")


def _running_text(text: str) -> list[tuple[int, str]]:
    """The README's lines outside figure blocks and fenced code, `code` spans and HTML tags removed."""
    text = figures.BLOCK.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    out, fenced = [], False
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            out.append((n, re.sub(r"`[^`]*`|<[^>]*>", "", line)))
    return out


def test_the_readme_quotes_figures_only_in_its_tables() -> None:
    """A measured figure in the README's running text could go stale unseen: every one is in
    a marked table (checked against the JSON above); the prose keeps thresholds only."""
    stray = [(n, line) for n, line in _running_text(DOC_TEXT["README.md"])
             if _FIGURE.search(_THRESHOLD.sub("", line))]
    assert not stray, "README.md quotes figures outside its tables (move them to docs/figures/*.json):\n" + \
        "\n".join(f"  line {n}: {line}" for n, line in stray)


def test_the_running_text_check_finds_a_figure() -> None:
    text = "Intro.\n\nA scan takes 40.1 ms a file; the goal is ≥ 0.5.\n\n```sh\nrun 1.5 s\n```\n"
    found = [n for n, line in _running_text(text) if _FIGURE.search(_THRESHOLD.sub("", line))]
    assert found == [3]
