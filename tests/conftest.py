"""Shared fixtures: a fresh workspace per test (real SQLite; PostgreSQL too when
``KYODAKU_TEST_DATABASE_URL`` is set), and small input files written on the fly."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from kyodaku.workspace import Workspace

PG_URL = os.environ.get("KYODAKU_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["server"] if PG_URL else [])


def _reset_database(url: str) -> None:
    """Drop every table so each test starts from an empty database."""
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        meta.drop_all(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None (SQLite in the workspace) or ``KYODAKU_TEST_DATABASE_URL``, emptied first."""
    if request.param == "sqlite":
        return None
    assert PG_URL is not None
    _reset_database(PG_URL)
    return PG_URL


@pytest.fixture
def workspace(tmp_path: Path, database_url: str | None) -> Iterator[Workspace]:
    """A fresh, initialised workspace."""
    ws = Workspace.init(tmp_path / "kyodaku-home", database_url)
    yield ws
    ws.dispose()


class InputFiles:
    """Writes test inputs (JSONL, CSV, tiny images) under one folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def jsonl(self, name: str, rows: Sequence[Mapping[str, Any]]) -> Path:
        p = self.path(name)
        p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        return p

    def csv(self, name: str, rows: Sequence[Mapping[str, Any]]) -> Path:
        p = self.path(name)
        fields = list(dict.fromkeys(k for r in rows for k in r))
        with p.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            for r in rows:
                writer.writerow({k: "|".join(v) if isinstance(v, list) else v for k, v in r.items()})
        return p

    def png(self, name: str, seed: int = 0, size: int = 16) -> Path:
        from PIL import Image

        p = self.path(name)
        pixels = bytes((seed * 37 + i * 11) % 256 for i in range(size * size * 3))
        Image.frombytes("RGB", (size, size), pixels).save(p)
        return p

    def video(self, name: str, seed: int = 0) -> Path:
        """Not a playable video: the registry only stores and hashes the bytes."""
        p = self.path(name)
        p.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes([seed]) * 64)
        return p


@pytest.fixture
def files(tmp_path: Path) -> InputFiles:
    return InputFiles(tmp_path / "inputs")
