"""The registry commands of the ``kyodaku`` CLI, through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from kyodaku.cli.main import app
from kyodaku.workspace import Workspace

ENV = {"COLUMNS": "250", "KYODAKU_HOME": None, "KYODAKU_DATABASE_URL": None, "KYODAKU_MODE": None}


class Cli:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0, env: dict | None = None):  # type: ignore[no-untyped-def]
        argv = (
            [*args, "--home", str(self.home)]
            if "--home" not in args and args[0] != "--version"
            else list(args)
        )
        result = self.runner.invoke(app, argv, env={**ENV, **(env or {})})
        assert result.exit_code == code, result.output
        return result


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    c = Cli(tmp_path / "home")
    c("init")
    return c


@pytest.fixture
def evalset(files):  # type: ignore[no-untyped-def]
    """A tiny set in the eval-set format: 2 holders, 3 works, 1 permit."""
    files.jsonl(
        "holders.jsonl",
        [
            {"holder": "question-studio", "name": "Question Studio", "jurisdiction": "JP"},
            {"holder": "wesnoth-story", "name": "Wesnoth Story", "jurisdiction": "JP"},
        ],
    )
    for i in range(3):
        files.png(f"refs/w000{i}.png", seed=i)
    files.jsonl(
        "catalog.jsonl",
        [
            {
                "work_id": f"w000{i}",
                "holder": "question-studio" if i < 2 else "wesnoth-story",
                "title": f"work {i}",
                "kind": "image",
                "media": [f"refs/w000{i}.png"],
            }
            for i in range(3)
        ],
    )
    files.jsonl(
        "permits.jsonl",
        [
            {
                "holder": "wesnoth-story",
                "licensee": "acme-video-ai",
                "use": "training",
                "works": "*",
                "valid_from": "2025-01-01",
                "valid_until": "2030-12-31",
            }
        ],
    )
    return files


def test_version_and_help() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and "kyodaku" in result.output


def test_init_is_idempotent_and_honours_kyodaku_home(tmp_path: Path) -> None:
    runner = CliRunner()
    home = tmp_path / "from-env"
    result = runner.invoke(app, ["init"], env={**ENV, "KYODAKU_HOME": str(home)})
    assert result.exit_code == 0, result.output
    assert (home / "kyodaku.db").is_file() and "workspace ready" in result.output
    assert runner.invoke(app, ["init"], env={**ENV, "KYODAKU_HOME": str(home)}).exit_code == 0
    result = runner.invoke(app, ["works", "list"], env={**ENV, "KYODAKU_HOME": str(home)})
    assert result.exit_code == 0 and "0 work(s)" in result.output


def test_missing_workspace_is_one_red_line(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "nowhere")
    result = cli("works", "list", code=1)
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"error: no kyodaku workspace at {(tmp_path / 'nowhere').resolve()}; run `kyodaku init`"
    ]


def test_import_everything(cli: Cli, evalset) -> None:  # type: ignore[no-untyped-def]
    assert "imported 2 holder(s)" in cli("holders", "import", str(evalset.root / "holders.jsonl")).output
    out = cli("catalog", "import", str(evalset.root / "catalog.jsonl"), "--no-fingerprint").output
    assert "imported 3 work(s) with 3 reference file(s)" in out
    assert "imported 1 permit(s)" in cli("permits", "import", str(evalset.root / "permits.jsonl")).output
    out = cli("works", "list").output
    assert "w0000" in out and "w0002" in out and "wesnoth-story" in out and "0/1" in out
    out = cli("works", "list", "--holder", "wesnoth-story").output
    assert "w0002" in out and "w0000" not in out
    out = cli("holders", "list").output
    assert "question-studio" in out and "prior_permission" in out


def test_importing_the_same_files_again_is_a_summary_not_an_error(cli: Cli, evalset) -> None:  # type: ignore[no-untyped-def]
    """Re-running every import reports what already existed; a catalog row that changed a
    registered work refuses the file, naming the row and the change."""
    import json

    root = evalset.root
    cli("holders", "import", str(root / "holders.jsonl"))
    cli("catalog", "import", str(root / "catalog.jsonl"), "--no-fingerprint")
    cli("permits", "import", str(root / "permits.jsonl"))
    reservations = root / "reservations.jsonl"
    reservations.write_text(json.dumps({"holder": "wesnoth-story", "use": "training", "works": "*"}) + "\n")
    assert cli("reservation", "import", str(reservations)).output.rstrip().endswith(": 1 new, 0 unchanged, 0 changed")

    def flat(*args: str) -> str:
        return " ".join(cli(*args).output.split())

    assert "imported 0 holder(s) from" in flat("holders", "import", str(root / "holders.jsonl"))
    assert ": 0 new, 2 unchanged, 0 changed" in flat("holders", "import", str(root / "holders.jsonl"))
    out = flat("catalog", "import", str(root / "catalog.jsonl"), "--no-fingerprint")
    assert "imported 0 work(s) with 0 reference file(s)" in out and ": 0 new, 3 unchanged, 0 changed" in out
    assert ": 0 new, 1 unchanged, 0 changed" in flat("permits", "import", str(root / "permits.jsonl"))
    assert ": 0 new, 1 unchanged, 0 changed" in flat("reservation", "import", str(reservations))

    rows = [json.loads(x) for x in (root / "catalog.jsonl").read_text().splitlines()]
    rows[1]["title"] = "Renamed"
    edited = root / "edited.jsonl"
    edited.write_text("".join(json.dumps(r) + "\n" for r in rows))
    r = cli("catalog", "import", str(edited), code=1)
    text = " ".join(r.stderr.split())
    assert "1 row(s) differ from the works already registered, so nothing was imported (0 new, 2 unchanged, " \
           "1 changed)" in text
    assert f"line 2: work {rows[1]['work_id']}: title" in text and "-> 'Renamed'" in text


def test_csv_imports(cli: Cli, files) -> None:  # type: ignore[no-untyped-def]
    h = files.csv("holders.csv", [{"holder": "us-co", "name": "US Co", "jurisdiction": "US"}])
    files.png("a.png")
    c = files.csv(
        "catalog.csv", [{"holder": "us-co", "title": "A", "media": "a.png", "aliases": "エー@ja|Ay"}]
    )
    p = files.csv(
        "permits.csv",
        [
            {
                "holder": "us-co",
                "licensee": "acme",
                "use": "generation",
                "works": "w0001",
                "valid_from": "2025-01-01",
                "valid_until": "",
            }
        ],
    )
    cli("holders", "import", str(h))
    cli("catalog", "import", str(c), "--no-fingerprint")
    cli("permits", "import", str(p))
    assert "エー (ja), Ay" in cli("works", "list").output
    assert "w0001" in cli("permits", "list").output


def test_bad_import_names_file_line_field(cli: Cli, evalset, files) -> None:  # type: ignore[no-untyped-def]
    cli("holders", "import", str(evalset.root / "holders.jsonl"))
    good = {
        "holder": "wesnoth-story",
        "licensee": "acme",
        "use": "training",
        "works": "*",
        "valid_from": "2025-01-01",
    }
    bad = files.csv("permits.csv", [good] * 5 + [{**good, "use": "train"}])
    result = cli("permits", "import", str(bad), code=1)
    assert "Traceback" not in result.output
    assert result.stderr.strip() == (
        f"error: {bad}:7: field 'use': must be 'training' or 'generation', got 'train'"
    )
    assert "acme" not in cli("permits", "list").output  # nothing imported


def test_catalog_import_fingerprints_unless_told_not_to(cli: Cli, evalset) -> None:  # type: ignore[no-untyped-def]
    """The real fingerprinting runs after an import; --no-fingerprint leaves media pending."""
    cli("holders", "import", str(evalset.root / "holders.jsonl"))
    out = cli("catalog", "import", str(evalset.root / "catalog.jsonl")).output
    assert "fingerprinted 3 reference file(s)" in out
    registry = Workspace.open(cli.home).registry
    assert registry.pending_media() == []
    cli("work", "add", "wesnoth-story", "Extra", str(evalset.png("extra.png", seed=9)), "--no-fingerprint")
    assert len(registry.pending_media()) == 1
    cli("work", "add", "wesnoth-story", "Extra 2", str(evalset.png("extra2.png", seed=10)))
    assert registry.pending_media() == []


def test_holder_work_permit_lifecycle(cli: Cli, files) -> None:  # type: ignore[no-untyped-def]
    assert (
        "added holder studio-x (Studio X, JP)"
        in cli("holder", "add", "studio-x", "--name", "Studio X").output
    )
    cli("holder", "add", "studio-y", "--jurisdiction", "de")
    cli("holder", "add", "Bad Slug", code=1)
    result = cli("holder", "add", "studio-x", code=1)
    assert "already exists" in result.stderr
    img = files.png("art.png", seed=3)
    out = cli(
        "work",
        "add",
        "studio-x",
        "Sky Art",
        str(img),
        "--alias",
        "空@ja",
        "--alias",
        "Sora",
        "--no-fingerprint",
    ).output
    assert "added work w0001 (Sky Art, image) with 1 file(s)" in out
    cli(
        "work",
        "add",
        "studio-x",
        "Clip",
        str(files.video("c.mp4")),
        "--work-id",
        "v0001",
        "--kind",
        "video",
        "--no-fingerprint",
    )
    assert (
        "file not found"
        in cli("work", "add", "studio-x", "Nope", str(files.root / "missing.png"), code=1).stderr
    )
    assert "unknown holder" in cli("work", "add", "ghost", "Nope", str(img), code=1).stderr
    out = cli("works", "list").output
    assert "空 (ja), Sora" in out and "v0001" in out

    out = cli(
        "permit",
        "grant",
        "studio-x",
        "acme",
        "--use",
        "training",
        "--works",
        "w0001,v0001",
        "--from",
        "2025-01-01",
        "--until",
        "2030-12-31",
    ).output
    assert (
        "granted permit 1 (studio-x -> acme, training, works v0001,w0001, valid 2025-01-01..2030-12-31)"
        in out
    )
    cli("permit", "grant", "studio-x", "other", "--use", "generation")
    cli("permit", "grant", "studio-x", "acme", "--use", "train", code=1)  # not a choice: a usage error, 1 like every other
    assert (
        "not a date"
        in cli("permit", "grant", "studio-x", "acme", "--use", "training", "--from", "soon", code=1).stderr
    )
    assert (
        "before"
        in cli(
            "permit",
            "grant",
            "studio-x",
            "acme",
            "--use",
            "training",
            "--from",
            "2025-02-01",
            "--until",
            "2025-01-01",
            code=1,
        ).stderr
    )
    out = cli("permit", "revoke", "1", "--reason", "contract ended").output
    assert "revoked permit 1" in out and "contract ended" in out
    assert "already revoked" in cli("permit", "revoke", "1", "--reason", "again", code=1).stderr
    assert "unknown permit" in cli("permit", "revoke", "99", "--reason", "x", code=1).stderr

    out = cli("permits", "list").output
    assert "revoked" in out and "contract ended" in out and "granted" in out and "other" in out
    out = cli("permits", "list", "--licensee", "other").output
    assert "active" in out and "contract ended" not in out
    assert "2024-06-01" in cli("permits", "list", "--on", "2024-06-01").output


def test_reservations(cli: Cli) -> None:
    cli("holder", "add", "eu-co", "--jurisdiction", "FR")
    assert (
        "reservation 1: eu-co reserved training of *"
        in cli("reservation", "declare", "eu-co", "--use", "training").output
    )
    assert "eu-co" in cli("reservation", "list").output
    cli("reservation", "withdraw", "1")
    assert "already withdrawn" in cli("reservation", "withdraw", "1", code=1).stderr
    assert "opt_out (EU)" in cli("holders", "list").output


def test_server_mode_refuses_sqlite(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "srv")
    result = cli("init", code=1, env={"KYODAKU_MODE": "server", "KYODAKU_SECRET_KEY": "x" * 40})
    assert "KYODAKU_ALLOW_SQLITE" in result.stderr and "Traceback" not in result.output


def test_a_reference_too_plain_to_match_is_reported(cli: Cli, evalset, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A nearly empty picture (a layer that is almost all transparent) has nothing a copy
    could be found by: the registrant is told so, by work id."""
    from PIL import Image

    cli("holders", "import", str(evalset.root / "holders.jsonl"))
    blank = np.zeros((400, 400, 4), np.uint8)
    blank[380:382, 20:380] = (235, 235, 235, 255)  # one faint strip of the layer is drawn
    Image.fromarray(blank, "RGBA").save(tmp_path / "horizon.png")
    out = cli("work", "add", "wesnoth-story", "Horizon", str(tmp_path / "horizon.png")).output
    assert "1 too plain to be found in copies" in " ".join(out.split()), out
    assert out.rstrip().endswith(": w0001"), out
    # painted art (not the fixture's 16-px pixel noise, which no copy would keep: it is too
    # plain too, since its hash does not find its own JPEG copy)
    from tests import art

    art.save(art.artwork(9, size=(300, 400)), tmp_path / "extra.png")
    art_out = cli("work", "add", "wesnoth-story", "Extra", str(tmp_path / "extra.png")).output
    assert "too plain" not in art_out
    noise_out = cli("work", "add", "wesnoth-story", "Noise", str(evalset.png("noise.png", seed=9))).output
    assert "1 too plain to be found in copies" in " ".join(noise_out.split()), noise_out


def test_near_identical_registrations_are_reported_and_listed(cli: Cli, evalset, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The same picture registered again under another work (here re-saved as JPEG, by
    another holder) is named on import and listed as a conflict; a different picture is
    not."""
    from kyodaku_demo.characters import character

    cli("holders", "import", str(evalset.root / "holders.jsonl"))
    hero = character(3).convert("RGB")
    hero.save(tmp_path / "hero.png")
    hero.save(tmp_path / "hero-copy.jpg", quality=80)
    character(4).convert("RGB").save(tmp_path / "other.png")
    first = cli("work", "add", "question-studio", "Hero", str(tmp_path / "hero.png")).output
    assert "near-identical" not in first
    other = cli("work", "add", "question-studio", "Other", str(tmp_path / "other.png")).output
    assert "near-identical" not in other
    again = " ".join(cli("work", "add", "wesnoth-story", "Hero again", str(tmp_path / "hero-copy.jpg")).output.split())
    assert "1 near-identical to a picture registered before under another work" in again, again
    assert "1 claimed by another holder" in again and "w0003 ~ w0001" in again, again
    listed = cli("works", "lookalikes").output
    assert "1 near-identical pair(s)" in listed and "w0003" in listed and "w0001" in listed
    assert "yes" in listed.split("w0003")[1].splitlines()[0]
    assert "0 near-identical pair(s)" in cli("works", "lookalikes", "--holder", "nobody").output
    cli("works", "lookalikes", "--conflicts", code=1)
    ws = Workspace.open(cli.home)
    ws.registry.record_lookalikes(ws.registry.get_work("w0003").media[0].id, [])  # as before kyodaku recorded them
    ws.dispose()
    assert "0 near-identical pair(s)" in cli("works", "lookalikes").output
    assert "1 near-identical pair(s)" in cli("works", "lookalikes", "--refresh").output
    hero.resize((600, 450)).save(tmp_path / "output.jpg", quality=85)  # a generated output that copies it
    checked = " ".join(cli("check", str(tmp_path / "output.jpg"), "--licensee", "acme-video-ai", code=2).output.split())
    assert "w0003 and w0001 are near-identical registered pictures" in checked, checked
    assert "holders wesnoth-story and question-studio both claim it" in checked


def test_registry_changes_from_the_cli_land_in_the_audit_log(cli: Cli, evalset, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Holders, works, permits (granted, imported, revoked) and reservations changed from
    the CLI are appended to the signed audit log, as the desk's changes are, and a
    picture two holders registered is logged as a conflict; the log still verifies."""
    from kyodaku.audit import read_entries, verify
    from kyodaku_demo.characters import character

    def entries(kind: str) -> list[dict]:
        return [e["data"] for _, e in read_entries(cli.home / "audit" / "audit.jsonl") if e["kind"] == kind]

    cli("holders", "import", str(evalset.root / "holders.jsonl"))
    cli("holder", "add", "opt-out-co", "--jurisdiction", "US")
    assert {h["holder"] for h in entries("holder")} == {"question-studio", "wesnoth-story", "opt-out-co"}
    assert all(h["by"].startswith("cli:") for h in entries("holder"))
    cli("catalog", "import", str(evalset.root / "catalog.jsonl"))
    hero = character(3).convert("RGB")
    hero.save(tmp_path / "hero.png")
    hero.save(tmp_path / "hero-copy.jpg", quality=80)
    cli("work", "add", "question-studio", "Hero", str(tmp_path / "hero.png"))
    cli("work", "add", "wesnoth-story", "Hero again", str(tmp_path / "hero-copy.jpg"))
    works = entries("work")
    assert [w["work"] for w in works] == ["w0000", "w0001", "w0002", "w0003", "w0004"], works
    assert works[-1] == {"work": "w0004", "holder": "wesnoth-story", "title": "Hero again", "by": works[-1]["by"]}
    assert entries("conflict") == [{"work": "w0004", "other_work": "w0003", "holders": ["wesnoth-story", "question-studio"],
                                    "distance": entries("conflict")[0]["distance"], "event": "found"}]
    cli("permits", "import", str(evalset.root / "permits.jsonl"))
    cli("permits", "import", str(evalset.root / "permits.jsonl"))  # nothing new: nothing logged
    cli("permit", "grant", "wesnoth-story", "acme-video-ai", "--use", "generation", "--works", "w0004",
        "--from", "2026-01-01", "--until", "2026-12-31")
    cli("permit", "revoke", "2", "--reason", "contract ended")
    permits = entries("permit")
    assert [(p["permit"], p["event"]) for p in permits] == [(1, "granted"), (2, "granted"), (2, "revoked")]
    assert permits[1]["scope"] == "w0004" and permits[1]["valid_until"] == "2026-12-31"
    assert permits[1]["use"] == "generation" and permits[2]["reason"] == "contract ended"
    cli("reservation", "declare", "opt-out-co", "--use", "training")
    cli("reservation", "withdraw", "1")
    assert [(r["reservation"], r["event"]) for r in entries("reservation")] == [(1, "declared"), (1, "withdrawn")]
    report = verify(cli.home / "audit" / "audit.jsonl")
    assert report.ok, str(report)
