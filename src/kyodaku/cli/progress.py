"""``kyodaku scan``'s progress: a bar with a count and a time remaining when the number of
items is known before the scan, a spinner when it is not (WebDataset shards: their
samples are only known by reading them)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

_COUNTS = ("{task.fields[blocked]} blocked[/red] · [yellow]{task.fields[review]} review[/yellow] · "
           "[magenta]{task.fields[error]} error[/magenta]")


def _rows_of_parquet(path: Path) -> int:
    import pyarrow.parquet as pq

    try:
        return int(pq.ParquetFile(path).metadata.num_rows)  # the footer only, no data read
    except Exception:  # noqa: BLE001 - an unreadable manifest is one error item
        return 1


def _lines_of_jsonl(path: Path) -> int:
    try:
        with open(path, "rb") as f:
            return sum(1 for raw in f if raw.strip()) or 1
    except OSError:
        return 1


def _files_under(folder: Path) -> int:
    return sum(len(files) for _root, _dirs, files in os.walk(folder))


def known_total(paths: Iterable[str | os.PathLike[str]]) -> int | None:
    """How many items the inputs hold, counted as :func:`kyodaku.corpus.items.iter_items`
    splits them (a file 1, a folder its files, a manifest its rows from Parquet metadata
    or JSONL lines); None when a WebDataset shard is among them.  Inside folders, files
    whose bytes are no media are counted too; they are skipped by the scan, so the bar
    may finish early and is completed at the end."""
    total = 0
    for raw in paths:
        p = Path(raw)
        suffix = p.suffix.lower()
        if p.is_file() and suffix == ".tar":
            return None
        if p.is_file() and suffix == ".parquet":
            total += _rows_of_parquet(p)
        elif p.is_file() and suffix == ".jsonl":
            total += _lines_of_jsonl(p)
        elif p.is_dir():
            total += _files_under(p)
        else:
            total += 1  # a file, or a path that is not there (an error item)
    return total


def scan_progress(console: Console, total: int | None, *, disable: bool) -> Progress:
    if total is None:
        columns: list[Any] = [SpinnerColumn(), TextColumn("scanning"), BarColumn(bar_width=None),
                              TextColumn("{task.completed} files · [red]" + _COUNTS), TimeElapsedColumn()]
    else:
        columns = [TextColumn("scanning"), BarColumn(bar_width=None), MofNCompleteColumn(),
                   TextColumn("files · [red]" + _COUNTS), TimeElapsedColumn(), TextColumn("ETA"),
                   TimeRemainingColumn()]
    return Progress(*columns, console=console, disable=disable, transient=False)
