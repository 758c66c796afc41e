"""Importers: JSONL and CSV for holders, catalog and permits; errors name file, line and
field, and a failed file imports nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kyodaku.registry import Alias
from kyodaku.registry.importers import (
    ImportFailed,
    import_catalog,
    import_holders,
    import_permits,
    register_work,
)
from kyodaku.workspace import Workspace

HOLDERS = [
    {"holder": "question-studio", "name": "Question Studio", "jurisdiction": "JP"},
    {"holder": "wesnoth-story", "name": "Wesnoth Story", "jurisdiction": "US"},
]


def catalog_rows(files) -> list[dict]:  # type: ignore[no-untyped-def]
    files.png("refs/w0001.png", seed=1)
    files.png("refs/w0002a.png", seed=2)
    files.png("refs/w0002b.jpg", seed=3)
    files.video("refs/v0001.mp4", seed=4)
    return [
        {
            "work_id": "w0001",
            "holder": "question-studio",
            "title": "Sky",
            "kind": "image",
            "media": ["refs/w0001.png"],
            "aliases": ["Sora", {"text": "空", "lang": "ja"}],
            "source_package": "ignored",
        },
        {
            "work_id": "w0002",
            "holder": "wesnoth-story",
            "title": "Sea",
            "kind": "image",
            "media": ["refs/w0002a.png", "refs/w0002b.jpg"],
        },
        {
            "work_id": "v0001",
            "holder": "wesnoth-story",
            "title": "Episode 1",
            "kind": "video",
            "media": ["refs/v0001.mp4"],
        },
    ]


PERMITS = [
    {
        "holder": "wesnoth-story",
        "licensee": "acme-video-ai",
        "use": "training",
        "works": "*",
        "valid_from": "2025-01-01",
        "valid_until": "2030-12-31",
    },
    {
        "holder": "question-studio",
        "licensee": "acme-video-ai",
        "use": "generation",
        "works": ["w0001"],
        "valid_from": "2025-01-01",
    },
]


def load_all(ws: Workspace, files, fmt: str) -> list[int]:  # type: ignore[no-untyped-def]
    write = files.jsonl if fmt == "jsonl" else files.csv
    import_holders(ws.registry, write(f"holders.{fmt}", HOLDERS))
    rows = catalog_rows(files)
    if fmt == "csv":  # CSV aliases are "text" or "text@lang", separated by "|"
        rows[0]["aliases"] = ["Sora", "空@ja"]
    ids = import_catalog(ws.registry, ws, write(f"catalog.{fmt}", rows))
    import_permits(ws.registry, write(f"permits.{fmt}", PERMITS))
    return ids


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_import_everything(workspace: Workspace, files, fmt: str) -> None:  # type: ignore[no-untyped-def]
    media_ids = load_all(workspace, files, fmt)
    reg = workspace.registry
    assert [(h.slug, h.jurisdiction) for h in reg.list_holders()] == [
        ("question-studio", "JP"),
        ("wesnoth-story", "US"),
    ]
    works = {w.work_id: w for w in reg.list_works()}
    assert sorted(works) == ["v0001", "w0001", "w0002"]
    assert len(media_ids) == 4 and len(works["w0002"].media) == 2
    assert works["v0001"].media[0].kind == "video"
    for m in reg.list_media():
        stored = workspace.media_path(m)
        assert stored.is_file() and stored.is_relative_to(workspace.media_dir)
        assert m.path == f"media/{m.sha256[:2]}/{m.sha256}{Path(m.original_name).suffix}"
    assert [m.id for m in reg.pending_media()] == media_ids
    on = date(2026, 1, 1)
    assert reg.permit_for("wesnoth-story", "w0002", "acme-video-ai", "training", on) is not None
    gen = reg.permit_for("question-studio", "w0001", "acme-video-ai", "generation", on)
    assert gen is not None and gen.works == ("w0001",) and gen.valid_until is None


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_aliases(workspace: Workspace, files, fmt: str) -> None:  # type: ignore[no-untyped-def]
    load_all(workspace, files, fmt)
    assert workspace.registry.get_work("w0001").aliases == (Alias("Sora"), Alias("空", "ja"))


def test_csv_aliases_with_language(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    import_holders(workspace.registry, files.jsonl("holders.jsonl", HOLDERS))
    files.png("refs/a.png")
    path = files.csv(
        "catalog.csv",
        [
            {
                "holder": "question-studio",
                "title": "Naruto-ish",
                "media": "refs/a.png",
                "aliases": "ナルト@ja|naruto@ja-Latn|mail@example.com",
            }
        ],
    )
    import_catalog(workspace.registry, workspace, path)
    w = workspace.registry.list_works()[0]
    assert w.work_id == "w0001" and w.kind == "image"  # generated id, kind from the file
    assert w.aliases == (Alias("ナルト", "ja"), Alias("naruto", "ja-Latn"), Alias("mail@example.com"))


def test_generated_ids_skip_ids_given_later_in_the_file(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    import_holders(workspace.registry, files.jsonl("holders.jsonl", HOLDERS))
    files.png("a.png", 1), files.png("b.png", 2)
    rows = [
        {"holder": "question-studio", "title": "A", "media": ["a.png"]},
        {"work_id": "w0001", "holder": "question-studio", "title": "B", "media": ["b.png"]},
    ]
    import_catalog(workspace.registry, workspace, files.jsonl("catalog.jsonl", rows))
    assert {w.title: w.work_id for w in workspace.registry.list_works()} == {"A": "w0002", "B": "w0001"}


def test_reimporting_identical_holders_is_a_no_op(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    path = files.jsonl("holders.jsonl", HOLDERS)
    assert len(import_holders(workspace.registry, path)) == 2
    assert import_holders(workspace.registry, path) == []
    changed = files.jsonl(
        "holders2.jsonl", [{"holder": "wesnoth-story", "name": "Renamed", "jurisdiction": "US"}]
    )
    with pytest.raises(ImportFailed, match=r"holders2.jsonl: 1 row\(s\) differ .*\n  line 1: holder "
                       r"'wesnoth-story' already exists as 'Wesnoth Story' \(US\), the file says 'Renamed'"):
        import_holders(workspace.registry, changed)
    assert workspace.registry.get_holder("wesnoth-story").name == "Wesnoth Story"


# -- failures: the message names file, line and field; nothing of the file is kept -------------
BAD_HOLDERS = [
    ({"holder": "Bad Slug", "name": "x"}, "field 'holder': must be a slug"),
    ({"name": "nameless"}, "field 'holder': required"),
    ({"holder": "x", "jurisdiction": "Japan"}, "field 'jurisdiction': must be an ISO country code"),
    ({"holder": "fine"}, "field 'holder': duplicate holder 'fine' (also on line {first})"),
]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("bad,message", BAD_HOLDERS)
def test_bad_holders_import_nothing(workspace: Workspace, files, fmt: str, bad: dict, message: str) -> None:  # type: ignore[no-untyped-def]
    path = (files.jsonl if fmt == "jsonl" else files.csv)(
        f"holders.{fmt}", [{"holder": "fine", "name": "Fine"}, bad]
    )
    first = 1 if fmt == "jsonl" else 2  # CSV line 1 is the header
    with pytest.raises(ImportFailed) as info:
        import_holders(workspace.registry, path)
    assert f"holders.{fmt}:{first + 1}: {message.format(first=first)}" in str(info.value)
    assert workspace.registry.list_holders() == []


def _bad_catalog(files) -> list[tuple[dict, str]]:  # type: ignore[no-untyped-def]
    files.png("ok.png", 1)
    files.png("other.png", 2)
    files.video("clip.mp4")
    files.path("notes.txt").write_text("x")
    base = {"holder": "question-studio", "title": "T", "kind": "image", "media": ["other.png"]}
    return [
        ({**base, "holder": "ghost"}, "field 'holder': unknown holder 'ghost'"),
        ({**base, "work_id": "w0001"}, "field 'work_id': duplicate work_id 'w0001' (also on line"),
        ({**base, "work_id": "w0900", "title": ""}, "field 'title': required"),
        ({**base, "kind": "audio"}, "field 'kind': must be 'image' or 'video', got 'audio'"),
        ({**base, "media": ["missing.png"]}, "field 'media': file not found: missing.png"),
        ({**base, "media": []}, "field 'media': required"),
        ({**base, "media": ["notes.txt"]}, "field 'media': unsupported file type"),
        ({**base, "media": ["clip.mp4"]}, "field 'media': clip.mp4 is a video file but the work is a image"),
        ({**base, "aliases": [{"text": "x", "lang": "Japanese!"}]}, "field 'aliases': bad language tag"),
    ]


CATALOG_CASES = [(fmt, case) for fmt in ("jsonl", "csv") for case in range(9) if (fmt, case) != ("csv", 8)]


@pytest.mark.parametrize("fmt,case", CATALOG_CASES)
def test_bad_catalog_imports_nothing(workspace: Workspace, files, fmt: str, case: int) -> None:  # type: ignore[no-untyped-def]
    import_holders(workspace.registry, files.jsonl("h.jsonl", HOLDERS))
    bad, message = _bad_catalog(files)[case]  # case 8 (alias objects) exists in JSONL only
    good = {
        "work_id": "w0001",
        "holder": "question-studio",
        "title": "Good",
        "kind": "image",
        "media": ["ok.png"],
    }
    path = (files.jsonl if fmt == "jsonl" else files.csv)(f"catalog.{fmt}", [good, bad])
    line = 2 if fmt == "jsonl" else 3
    with pytest.raises(ImportFailed) as info:
        import_catalog(workspace.registry, workspace, path)
    assert f"catalog.{fmt}:{line}: {message}" in str(info.value)
    assert workspace.registry.list_works() == [] and workspace.registry.list_media() == []
    assert [p for p in workspace.media_dir.rglob("*") if p.is_file()] == []  # copies removed again


def test_catalog_refuses_a_registered_work_id_with_other_data(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    import_holders(workspace.registry, files.jsonl("h.jsonl", HOLDERS))
    workspace.registry.add_work("question-studio", "Old", "image", work_id="w0001")
    files.png("a.png")
    files.png("b.png", seed=5)
    path = files.jsonl(
        "catalog.jsonl", [{"work_id": "w0002", "holder": "question-studio", "title": "New", "media": ["b.png"]},
                          {"work_id": "w0001", "holder": "question-studio", "title": "T", "media": ["a.png"]}]
    )
    with pytest.raises(ImportFailed) as info:
        import_catalog(workspace.registry, workspace, path)
    text = str(info.value)
    assert ("catalog.jsonl: 1 row(s) differ from the works already registered, so nothing was imported "
            "(1 new, 0 unchanged, 1 changed)") in text
    assert "line 2: work w0001: title 'Old' -> 'T'; reference files differ (1 not registered" in text
    assert workspace.registry.get_work("w0002") is None  # nothing from the file


def test_reimporting_a_catalog_is_unchanged_and_writes_nothing(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    """The same catalog again: every row unchanged, no media copied, no audit entry;
    one new row imported beside them; one changed row refuses the file, naming each change."""
    from kyodaku.registry.importers import ImportSummary

    ws = workspace
    load_all(ws, files, "jsonl")
    rows = catalog_rows(files)
    audit = ws.home / "audit" / "audit.jsonl"
    entries = audit.read_bytes().count(b"\n")
    assert entries == 2 + 3 + 2  # the first import was audited: holders, works, permits
    media = len(ws.registry.list_media())

    summary = ImportSummary()
    assert import_catalog(ws.registry, ws, files.jsonl("again.jsonl", rows), summary) == []
    assert (summary.new, summary.unchanged, summary.changed) == (0, 3, 0) and str(summary) == "0 new, 3 unchanged, 0 changed"
    assert len(ws.registry.list_media()) == media
    assert audit.read_bytes().count(b"\n") == entries

    files.png("refs/w0003.png", seed=9)
    more = [*rows, {"work_id": "w0003", "holder": "wesnoth-story", "title": "Sand", "media": ["refs/w0003.png"]}]
    summary = ImportSummary()
    assert len(import_catalog(ws.registry, ws, files.jsonl("more.jsonl", more), summary)) == 1
    assert str(summary) == "1 new, 3 unchanged, 0 changed"

    edited = [{**rows[0], "title": "Sky!", "aliases": ["Sora"]}, {**rows[1], "media": ["refs/w0002a.png"]}, rows[2]]
    summary = ImportSummary()
    with pytest.raises(ImportFailed) as info:
        import_catalog(ws.registry, ws, files.jsonl("edited.jsonl", edited), summary)
    assert str(summary) == "0 new, 1 unchanged, 2 changed"
    text = str(info.value)
    assert "line 1: work w0001: title 'Sky' -> 'Sky!'; aliases Sora, 空 -> Sora" in text
    assert "line 2: work w0002: reference files differ (0 not registered, 1 registered not in the row)" in text
    assert ws.registry.get_work("w0001").title == "Sky"


def test_every_import_counts_new_and_unchanged(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    from kyodaku.registry.importers import ImportSummary, import_reservations

    load_all(workspace, files, "jsonl")
    for importer, name, rows in ((import_holders, "h.jsonl", HOLDERS), (import_permits, "p.jsonl", PERMITS),
                                 (import_reservations, "r.jsonl", [{"holder": "wesnoth-story", "use": "training",
                                                                    "works": "*"}])):
        first, again = ImportSummary(), ImportSummary()
        importer(workspace.registry, files.jsonl(name, rows), first)
        importer(workspace.registry, files.jsonl(name, rows), again)
        assert again.new == 0 and again.unchanged == len(rows) and again.changed == 0, name
        assert first.new + first.unchanged == len(rows)


BAD_PERMITS = [
    ({"use": "train"}, "field 'use': must be 'training' or 'generation', got 'train'"),
    ({"holder": "ghost"}, "field 'holder': unknown holder 'ghost'"),
    ({"licensee": "ACME Corp"}, "field 'licensee': must be a slug"),
    ({"valid_from": "2025-13-01"}, "field 'valid_from': not a date (YYYY-MM-DD): '2025-13-01'"),
    ({"valid_from": "01/02/2025"}, "field 'valid_from': not a date"),
    ({"valid_from": ""}, "field 'valid_from': required"),
    ({"valid_until": "2024-12-31"}, "field 'valid_until': 2024-12-31 is before valid_from 2025-01-01"),
    ({"works": ["w0404"]}, "field 'works': unknown work 'w0404'"),
    ({"works": ["v0001"]}, "field 'works': work 'v0001' belongs to 'wesnoth-story', not 'question-studio'"),
    ({"works": []}, "field 'works': required"),
]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("change,message", BAD_PERMITS)
def test_bad_permits_import_nothing(
    workspace: Workspace, files, fmt: str, change: dict, message: str
) -> None:  # type: ignore[no-untyped-def]
    import_holders(workspace.registry, files.jsonl("h.jsonl", HOLDERS))
    import_catalog(workspace.registry, workspace, files.jsonl("c.jsonl", catalog_rows(files)))
    good = {
        "holder": "question-studio",
        "licensee": "acme-video-ai",
        "use": "training",
        "works": "*",
        "valid_from": "2025-01-01",
        "valid_until": "",
    }
    rows = [good, good, {**good, **change}]
    path = (files.jsonl if fmt == "jsonl" else files.csv)(f"permits.{fmt}", rows)
    line = 3 if fmt == "jsonl" else 4
    with pytest.raises(ImportFailed) as info:
        import_permits(workspace.registry, path)
    assert f"permits.{fmt}:{line}: {message}" in str(info.value)
    assert workspace.registry.list_permits() == []


def test_csv_example_message(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    import_holders(workspace.registry, files.jsonl("h.jsonl", HOLDERS))
    good = {
        "holder": "question-studio",
        "licensee": "acme-video-ai",
        "use": "training",
        "works": "*",
        "valid_from": "2025-01-01",
        "valid_until": "2030-12-31",
    }
    path = files.csv("permits.csv", [good] * 5 + [{**good, "use": "train"}])
    with pytest.raises(ImportFailed) as info:
        import_permits(workspace.registry, path)
    assert str(info.value).endswith(
        "permits.csv:7: field 'use': must be 'training' or 'generation', got 'train'"
    )
    assert (info.value.line, info.value.field) == (7, "use")


def test_unreadable_files(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportFailed, match="file not found"):
        import_holders(workspace.registry, files.root / "nope.jsonl")
    bad = files.path("h.jsonl")
    bad.write_text('{"holder": "a"}\n{not json\n')
    with pytest.raises(ImportFailed, match=r"h.jsonl:2: invalid JSON"):
        import_holders(workspace.registry, bad)
    bad.write_text('["a"]\n')
    with pytest.raises(ImportFailed, match=r"h.jsonl:1: expected a JSON object"):
        import_holders(workspace.registry, bad)
    assert workspace.registry.list_holders() == []


def test_register_work(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    workspace.registry.add_holder("h", "H", "JP")
    work, ids = register_work(
        workspace.registry, workspace, "h", "Clip", [files.video("a.mp4")], aliases=["Kurippu"]
    )
    assert work.kind == "video" and len(ids) == 1 and work.media[0].id == ids[0]
    from kyodaku.registry import RegistryError

    with pytest.raises(RegistryError, match="file not found"):
        register_work(workspace.registry, workspace, "h", "X", [files.root / "missing.png"])
    with pytest.raises(RegistryError):
        register_work(workspace.registry, workspace, "nobody", "X", [files.png("b.png", 9)])
    assert len(workspace.registry.list_works()) == 1
    assert len([p for p in workspace.media_dir.rglob("*") if p.is_file()]) == 1


@pytest.mark.skipif(not Path("/work/evalsets/small/catalog.jsonl").is_file(), reason="eval set not built")
def test_small_eval_set(workspace: Workspace) -> None:
    root = Path("/work/evalsets/small")
    import_holders(workspace.registry, root / "holders.jsonl")
    assert len(import_catalog(workspace.registry, workspace, root / "catalog.jsonl")) == 44
    assert len(import_permits(workspace.registry, root / "permits.jsonl")) == 2


def test_importing_the_same_permits_again_grants_nothing_twice(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    load_all(workspace, files, "jsonl")
    before = workspace.registry.list_permits()
    again = import_permits(workspace.registry, files.jsonl("permits-again.jsonl", PERMITS))
    assert sorted(p.id for p in again) == sorted(p.id for p in before)
    assert len(workspace.registry.list_permits()) == len(before)
    changed = [{**PERMITS[0], "valid_until": "2031-01-01"}]  # other terms: a new permit
    (new,) = import_permits(workspace.registry, files.jsonl("permits-new.jsonl", changed))
    assert new.id not in {p.id for p in before}


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_import_reservations(workspace: Workspace, files, fmt: str) -> None:  # type: ignore[no-untyped-def]
    from kyodaku.registry.importers import import_reservations

    load_all(workspace, files, fmt)
    write = files.jsonl if fmt == "jsonl" else files.csv
    rows = [{"holder": "wesnoth-story", "use": "training", "works": "*"},
            {"holder": "wesnoth-story", "use": "generation", "works": ["v0001"]}]
    got = import_reservations(workspace.registry, write(f"res.{fmt}", rows))
    assert [(r.use, r.scope) for r in got] == [("training", "*"), ("generation", "v0001")]
    again = import_reservations(workspace.registry, write(f"res2.{fmt}", rows))
    assert [r.id for r in again] == [r.id for r in got] and len(workspace.registry.list_reservations()) == 2
    with pytest.raises(ImportFailed, match=r"res3\.\w+:\d: field 'works': work 'w0001' belongs to 'question-studio'"):
        import_reservations(workspace.registry, write(f"res3.{fmt}", [{"holder": "wesnoth-story", "use": "training",
                                                                        "works": ["w0001"]}]))
    assert len(workspace.registry.list_reservations()) == 2


def test_catalog_keyword_sets_are_imported_once(workspace: Workspace, files) -> None:  # type: ignore[no-untyped-def]
    """``keywords`` of a catalog row become the work's keyword sets; importing the file
    again adds nothing (no second set, no audit entry)."""
    from kyodaku.registry.importers import ImportSummary

    ws = workspace
    load_all(ws, files, "jsonl")
    rows = catalog_rows(files)
    with_sets = [{**rows[0], "keywords": [{"lang": "en", "keywords": ["videogame", "Plumber"]},
                                          {"lang": "ja", "keywords": ["配管工", "ゲーム"]}]}, *rows[1:]]
    for _ in range(2):
        summary = ImportSummary()
        import_catalog(ws.registry, ws, files.jsonl("kw.jsonl", with_sets), summary)
        assert str(summary) == "0 new, 3 unchanged, 0 changed"
        sets = ws.registry.list_keyword_sets(rows[0]["work_id"])
        assert [(k.lang, k.keywords) for k in sets] == [("en", ("plumber", "videogame")), ("ja", ("ゲーム", "配管工"))]
    bad = [{**rows[0], "keywords": [{"lang": "en", "keywords": "plumber"}]}]
    with pytest.raises(ImportFailed):
        import_catalog(ws.registry, ws, files.jsonl("bad.jsonl", bad), ImportSummary())
