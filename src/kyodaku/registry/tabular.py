"""Reading JSONL and CSV input row by row, with line numbers, and the import error.

:class:`ImportFailed` says ``file:line: field 'x': what is wrong``; importers raise
:class:`FieldError` from a row handler and :func:`handle_rows` adds file and line.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from kyodaku.registry.base import RegistryError

__all__ = ["FieldError", "ImportFailed", "Row", "handle_rows", "read_rows"]

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
T = TypeVar("T")


class ImportFailed(Exception):
    """A row that cannot be imported; ``str()`` is ``file:line: field 'x': what is wrong``."""

    def __init__(self, path: str, line: int | None, field: str | None, message: str) -> None:
        self.path, self.line, self.field, self.message = path, line, field, message
        where = f"{path}:{line}" if line is not None else path
        what = f"field '{field}': {message}" if field else message
        super().__init__(f"{where}: {what}")


class FieldError(Exception):
    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@dataclass
class Row:
    line: int
    data: dict[str, Any]
    is_csv: bool

    def raw(self, field: str) -> Any:
        value = self.data.get(field)
        if isinstance(value, str):
            value = value.strip()
            if self.is_csv and value == "":
                return None
        return value

    def text(self, field: str, *, required: bool = True, default: str | None = None) -> str | None:
        value = self.raw(field)
        if value is None or value == "":
            if required:
                raise FieldError(field, "required")
            return default
        if not isinstance(value, str):
            raise FieldError(field, f"must be text, got {json.dumps(value, ensure_ascii=False)}")
        return value

    def items(self, field: str) -> list[Any]:
        """A list field: a JSON list, or text split on ``|``."""
        value = self.raw(field)
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split("|") if part.strip()]
        if isinstance(value, list):
            return value
        raise FieldError(field, f"must be a list, got {json.dumps(value, ensure_ascii=False)}")

    def day(self, field: str, *, required: bool) -> date | None:
        value = self.text(field, required=required)
        if value is None:
            return None
        try:
            if not ISO_DATE.match(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise FieldError(field, f"not a date (YYYY-MM-DD): {value!r}") from None


def _read_jsonl(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportFailed(str(path), n, None, f"invalid JSON: {exc.msg}") from None
            if not isinstance(data, dict):
                raise ImportFailed(str(path), n, None, "expected a JSON object")
            yield Row(n, data, is_csv=False)


def _read_csv(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames:
            return
        for data in reader:
            if None in data:
                raise ImportFailed(str(path), reader.line_num, None, "more cells than header columns")
            if all((v or "").strip() == "" for v in data.values()):
                continue
            yield Row(reader.line_num, dict(data), is_csv=True)


def read_rows(path: str | Path) -> list[Row]:
    """The data rows of a ``.jsonl``/``.ndjson`` or ``.csv`` file, with their line numbers."""
    p = Path(path)
    if not p.is_file():
        raise ImportFailed(str(path), None, None, "file not found")
    suffix = p.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".csv"):
        head = p.read_text(encoding="utf-8-sig", errors="replace").lstrip()[:1]
        suffix = ".jsonl" if head == "{" else ".csv"
    try:
        return list(_read_csv(p) if suffix == ".csv" else _read_jsonl(p))
    except UnicodeDecodeError as exc:
        raise ImportFailed(str(path), None, None, f"not UTF-8 text ({exc.reason})") from None


def handle_rows(path: str | Path, handle: Callable[[Row], T]) -> list[T]:
    """Apply ``handle`` to every row, turning field errors into :class:`ImportFailed`."""
    out = []
    for row in read_rows(path):
        try:
            out.append(handle(row))
        except FieldError as exc:
            raise ImportFailed(str(path), row.line, exc.field, exc.message) from None
        except RegistryError as exc:
            raise ImportFailed(str(path), row.line, None, str(exc)) from None
    return out
