"""``kyodaku report``: the offline HTML report of a scan's results (the same function as
the library's :func:`kyodaku.report.html.write_scan_report` and ``kyodaku scan --report``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from kyodaku.cli.common import (
    HomeOption,
    console,
    fail,
    friendly_errors,
    open_workspace,
    parse_date,
)
from kyodaku.report.html import (
    DEFAULT_MAX_EVIDENCE,
    ReportError,
    ScanInfo,
    scan_info,
    write_scan_report,
)
from kyodaku.report.words import LANGS
from kyodaku.workspace import Workspace

MaxEvidenceOption = Annotated[int, typer.Option(
    "--max-evidence", min=0, help="At most this many evidence rows (with thumbnails) per rights holder: review "
    "items, then the lowest-scoring blocks, each verdict and medium once; the counts are always complete.")]


def register(app: typer.Typer) -> None:
    app.command("report")(report)


LangOption = Annotated[str, typer.Option("--lang", help="The report's language: en or ja (headings, verdict names "
                                          "and reasons; a reason of no known form stays as it was stored).")]


def write_report(workspace: Workspace, results: Path, out: Path, info: ScanInfo, max_evidence: int,
                 lang: str = "en") -> None:
    """Write the report and say where, or fail with one line."""
    try:
        stats = write_scan_report(workspace, results, out, info=info, max_evidence=max_evidence, lang=lang)
    except (ReportError, OSError) as exc:
        fail(f"cannot write the report: {exc}")
    console().print(f"report of {stats.items} item(s) in {escape(str(stats.path))} "
                    f"({stats.bytes / 1024:.0f} kB, {stats.evidence_rows} evidence row(s), "
                    f"{stats.thumbnails} thumbnail(s))")


@friendly_errors
def report(
    results: Annotated[Path, typer.Argument(help="A scan's results (JSON lines, from `kyodaku scan --out`).",
                                            dir_okay=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML file to write.", dir_okay=False)],
    max_evidence: MaxEvidenceOption = DEFAULT_MAX_EVIDENCE,
    licensee: Annotated[str | None, typer.Option("--licensee", "-l", help="The scan's licensee, when the "
                                                 "workspace's audit log does not record the scan.")] = None,
    use: Annotated[str | None, typer.Option("--use", "-u", help="The scan's use (training or generation), "
                                            "likewise.")] = None,
    on: Annotated[str | None, typer.Option("--on", help="The scan's decision date (YYYY-MM-DD), likewise.")] = None,
    lang: LangOption = "en",
    home: HomeOption = None,
) -> None:
    """Write an offline HTML report of a scan: per rights holder what was matched, blocked,
    sent to review and cleared by which permit, with the evidence side by side with the
    registered reference, and charts.  One self-contained file; it loads nothing."""
    if lang not in LANGS:
        fail(f"--lang {lang}: the report is written in {' or '.join(LANGS)}")
    if not results.is_file():
        fail(f"no results file at {results}")
    workspace = open_workspace(home)
    info = scan_info(workspace, results, licensee=licensee, use=use, on=parse_date(on, "--on"))
    write_report(workspace, results, out, info, max_evidence, lang)
