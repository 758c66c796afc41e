"""Workspace layout, init/open, SQLite pragmas, content-addressed media, settings."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from sqlalchemy import text

from kyodaku.registry.migrate import current_revision, head_revision
from kyodaku.settings import Settings, SettingsError, load_settings
from kyodaku.workspace import Workspace, WorkspaceError, media_kind


def test_init_creates_layout_and_is_idempotent(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ws = Workspace.init(home)
    for sub in ("media", "fingerprints", "index"):
        assert (home / sub).is_dir()
    assert ws.db_path.is_file()
    assert current_revision(ws.engine) == head_revision()
    ws.registry.add_holder("h", "H", "JP")
    ws.dispose()
    again = Workspace.init(home)  # re-running keeps the data
    assert again.registry.get_holder("h") is not None
    again.dispose()


def test_open_missing_workspace_says_run_init(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"no kyodaku workspace at .*; run `kyodaku init`"):
        Workspace.open(tmp_path / "nothing")
    assert not (tmp_path / "nothing").exists()  # open never creates anything


def test_open_existing(workspace: Workspace) -> None:
    ws = Workspace.open(workspace.home, workspace.database_url)
    assert ws.home == workspace.home
    ws.dispose()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "home")
    with ws.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    ws.dispose()


def test_session_commits_and_rolls_back(workspace: Workspace) -> None:
    from kyodaku.registry.base import utcnow
    from kyodaku.registry.models import HolderRow

    with workspace.session() as s:
        s.add(HolderRow(slug="a", name="A", jurisdiction="JP", created_at=utcnow()))
    with pytest.raises(RuntimeError):
        with workspace.session() as s:
            s.add(HolderRow(slug="b", name="B", jurisdiction="JP", created_at=utcnow()))
            s.flush()
            raise RuntimeError("boom")
    assert [h.slug for h in workspace.registry.list_holders()] == ["a"]


def test_store_media_is_content_addressed(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    src = files.png("a.PNG", seed=1)
    first = workspace.store_media(src)
    assert first.created and first.path == f"media/{first.sha256[:2]}/{first.sha256}.png"
    assert workspace.media_path(first.path).read_bytes() == src.read_bytes()
    second = workspace.store_media(files.png("copy.png", seed=1))
    assert second.sha256 == first.sha256 and not second.created
    workspace.discard_media(second)  # not created by that call: kept
    assert workspace.media_path(first.path).is_file()
    workspace.discard_media(first)
    assert not workspace.media_path(first.path).exists()
    assert not any((workspace.media_dir / ".incoming").iterdir())


def test_workspace_pickles_without_engine(workspace: Workspace) -> None:
    workspace.registry.list_holders()  # engine created
    clone = pickle.loads(pickle.dumps(workspace))
    assert clone.home == workspace.home and clone.database_url == workspace.database_url
    assert clone.registry.list_holders() == []
    clone.dispose()


def test_media_kind_comes_from_the_bytes(tmp_path: Path) -> None:
    png, mp4 = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24, b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
    for name, data, kind in [("a.JPG", png, "image"), ("b.mp4", mp4, "video"), ("c.txt", b"text", None),
                             ("renamed.mp4", png, "image"), ("renamed.png", mp4, "video"), ("noext", png, "image")]:
        (tmp_path / name).write_bytes(data)
        assert media_kind(tmp_path / name) == kind, name
    assert media_kind(tmp_path / "missing.png") is None


# -- settings ----------------------------------------------------------------------------------
def test_settings_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in ("KYODAKU_HOME", "KYODAKU_DATABASE_URL", "KYODAKU_MODE", "KYODAKU_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    s = Settings()
    assert s.home == Path("./kyodaku-data") and s.mode == "local"
    assert s.database_url == f"sqlite:///{Path('kyodaku-data').resolve()}/kyodaku.db"
    monkeypatch.setenv("KYODAKU_HOME", str(tmp_path))
    assert Settings().database_url == f"sqlite:///{tmp_path.resolve()}/kyodaku.db"
    assert Settings(home=tmp_path / "x").home == tmp_path / "x"  # keyword beats environment


def test_server_mode_refuses_insecure_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KYODAKU_DATABASE_URL", raising=False)
    monkeypatch.setenv("KYODAKU_MODE", "server")
    monkeypatch.delenv("KYODAKU_SECRET_KEY", raising=False)
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("KYODAKU_SECRET_KEY", "short")
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings()
    monkeypatch.setenv("KYODAKU_SECRET_KEY", "k" * 40)
    with pytest.raises(SettingsError, match="KYODAKU_ALLOW_SQLITE"):
        load_settings()
    monkeypatch.setenv("KYODAKU_ALLOW_SQLITE", "1")
    assert load_settings().mode == "server"
    monkeypatch.delenv("KYODAKU_ALLOW_SQLITE")
    monkeypatch.setenv("KYODAKU_DATABASE_URL", "postgresql+psycopg://u:p@db/kyodaku")
    s = load_settings()
    assert s.secret_key is not None and "k" * 40 not in repr(s)
