"""The audit log: a valid chain verifies; every kind of tampering is detected and located."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from kyodaku.audit import AuditKeyError, AuditLog, verify
from kyodaku.audit.keys import (
    key_paths,
    load_or_create_signing_key,
    load_public_key,
    sign,
)
from kyodaku.audit.log import GENESIS, canonical, entry_hash

N = 10


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    lg = AuditLog.for_home(tmp_path / "home")
    lg.append("scan", {"started": True, "paths": ["a", "b"]})
    lg.append_many("verdict", [{"file": f"img{i}.png", "verdict": "cleared", "score": i / 10} for i in range(N - 1)])
    return lg


def lines(lg: AuditLog) -> list[str]:
    return lg.path.read_text(encoding="utf-8").splitlines(keepends=True)


def write(lg: AuditLog, new: list[str]) -> None:
    lg.path.write_text("".join(new), encoding="utf-8")


def test_append_and_verify_ok(log: AuditLog) -> None:
    entries = [json.loads(line) for line in lines(log)]
    assert [e["seq"] for e in entries] == list(range(N))
    assert entries[0]["prev"] == GENESIS
    for before, after in itertools.pairwise(entries):
        assert after["prev"] == before["hash"] == entry_hash(before)
    assert entries[3]["data"] == {"file": "img2.png", "verdict": "cleared", "score": 0.2}
    report = verify(log.path)
    assert report.ok, report.problems
    assert (report.entries, report.last_seq, report.head_seq) == (N, N - 1, N - 1)
    assert str(report) == f"{N} entries verified, chain intact, head seq {N - 1}"


def test_key_file_is_private_and_stable(tmp_path: Path) -> None:
    home = tmp_path / "h"
    k1 = load_or_create_signing_key(home)
    priv, pub = key_paths(home)
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert pub.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    k2 = load_or_create_signing_key(home)
    assert k1.private_bytes_raw() == k2.private_bytes_raw()
    assert not [p for p in priv.parent.iterdir() if p.name.startswith(".")]  # no temp files left


def test_edit_middle_line_names_the_seq(log: AuditLog) -> None:
    ls = lines(log)
    ls[5] = ls[5].replace('"verdict":"cleared"', '"verdict":"blocked"')
    write(log, ls)
    report = verify(log.path)
    assert not report.ok
    assert [(p.kind, p.seq, p.line) for p in report.problems] == [("edited", 5, 6)]
    assert "entry seq 5 (line 6) was edited" in str(report)


def test_delete_middle_line(log: AuditLog) -> None:
    ls = lines(log)
    del ls[4]
    write(log, ls)
    report = verify(log.path)
    assert [(p.kind, p.seq, p.line) for p in report.problems] == [("missing", 4, 5)]
    assert "entry seq 4 is missing: line 5 holds seq 5" in str(report)


def test_delete_last_lines_caught_by_head(log: AuditLog) -> None:
    write(log, lines(log)[:-1])
    report = verify(log.path)
    assert report.kinds() == {"head"}
    assert f"the log ends at seq {N - 2} (line {N - 1}) but the head records seq {N - 1}" in str(report)
    write(log, lines(log)[:-3])
    assert f"entries seq {N - 4}..{N - 1} are missing from the end" in str(verify(log.path))


def test_reorder_two_lines(log: AuditLog) -> None:
    ls = lines(log)
    ls[3], ls[4] = ls[4], ls[3]
    write(log, ls)
    report = verify(log.path)
    assert [(p.kind, p.line) for p in report.problems] == [("reordered", 5)]
    assert "entries reordered at line 5: seq 3 comes after seq 4" in str(report)


def test_forged_line_with_recomputed_hash_fails_signature(log: AuditLog, tmp_path: Path) -> None:
    ls = lines(log)
    entry = json.loads(ls[6])
    entry["data"]["verdict"] = "blocked"
    entry["hash"] = entry_hash(entry)
    entry["sig"] = sign(load_or_create_signing_key(tmp_path / "attacker"), entry["hash"].encode())
    ls[6] = canonical(entry).decode() + "\n"
    write(log, ls)
    report = verify(log.path)
    kinds = [(p.kind, p.seq) for p in report.problems]
    assert ("signature", 6) in kinds
    assert ("link", 7) in kinds  # the next entry's prev still points at the original
    assert "entry seq 6 (line 7) has an invalid signature" in str(report)


def test_garbled_and_truncated_lines(log: AuditLog) -> None:
    ls = lines(log)
    ls[2] = "{not json\n"
    ls[-1] = ls[-1][:40]  # torn last write
    write(log, ls)
    report = verify(log.path)
    kinds = [(p.kind, p.line) for p in report.problems]
    assert ("garbled", 3) in kinds and ("truncated", N) in kinds
    assert ("missing", 4) in kinds  # seq 2 went with the garbled line; line 4 holds seq 3
    # an append after a torn write terminates the fragment and chains to the last good entry
    log.append("scan", {"resumed": True})
    tail = lines(log)
    assert tail[-2].endswith("\n") and json.loads(tail[-1])["seq"] == N - 1


def test_several_problems_are_all_listed(log: AuditLog) -> None:
    ls = lines(log)
    ls[1] = ls[1].replace("img0", "imgX")
    del ls[7]
    write(log, ls)
    report = verify(log.path)
    assert [(p.kind, p.seq) for p in report.problems] == [("edited", 1), ("missing", 7)]


def test_verify_with_only_the_public_key(log: AuditLog, tmp_path: Path) -> None:
    auditor = tmp_path / "auditor"
    auditor.mkdir()
    (auditor / "audit.jsonl").write_bytes(log.path.read_bytes())
    (auditor / "HEAD.json").write_bytes(log.head_path.read_bytes())
    pub = tmp_path / "pinned.pub.pem"
    pub.write_bytes(key_paths(log.path.parent.parent)[1].read_bytes())
    assert verify(auditor / "audit.jsonl", pub).ok
    assert verify(auditor / "audit.jsonl", load_public_key(pub)).ok
    with pytest.raises(AuditKeyError):
        verify(auditor / "audit.jsonl")  # no workspace key there, none given
    other = tmp_path / "other"
    load_or_create_signing_key(other)
    report = verify(auditor / "audit.jsonl", key_paths(other)[1])
    assert report.kinds() == {"signature", "head"} and len(report.problems) == N + 1


def test_absent_and_empty_log(tmp_path: Path) -> None:
    home = tmp_path / "h"
    load_or_create_signing_key(home)
    path = home / "audit" / "audit.jsonl"
    assert verify(path).kinds() == {"absent"}
    path.parent.mkdir()
    path.touch()
    assert verify(path).kinds() == {"absent"}


def test_data_round_trips_through_json(tmp_path: Path) -> None:
    lg = AuditLog.for_home(tmp_path / "h")
    lg.append("verdict", {1: "int key", 10: "x", 2: "y", "path": tmp_path, "tuple": (1, 2), "日本": "許諾"})
    assert verify(lg.path).ok
    with pytest.raises(ValueError):
        lg.append("verdict", {"score": float("nan")})
    with pytest.raises(TypeError):
        lg.append("verdict", ["not", "a", "mapping"])  # type: ignore[arg-type]
    assert verify(lg.path).ok


def _worker(home: str, worker: int, rounds: int) -> None:
    lg = AuditLog.for_home(home)
    for i in range(rounds):
        if i % 2:
            lg.append("verdict", {"worker": worker, "i": i})
        else:
            lg.append_many("verdict", [{"worker": worker, "i": i, "j": j} for j in range(3)])


def test_concurrent_appends_from_four_processes(tmp_path: Path) -> None:
    home = tmp_path / "h"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_worker, args=(str(home), w, 10)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    lg = AuditLog.for_home(home)
    entries = [json.loads(line) for line in lines(lg)]
    assert [e["seq"] for e in entries] == list(range(4 * (5 * 3 + 5)))
    report = verify(lg.path)
    assert report.ok, report.problems
    assert report.head_seq == len(entries) - 1
    assert os.stat(key_paths(home)[0]).st_mode & 0o077 == 0
