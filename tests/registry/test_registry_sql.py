"""SqlRegistry: holders, works, media queue, permits (dates, revocation, scope), reservations."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kyodaku.registry import Alias, Conflict, NotFound, RegistryError
from kyodaku.workspace import Workspace


def utc(y: int, m: int, d: int, h: int = 12) -> datetime:
    return datetime(y, m, d, h, tzinfo=UTC)


@pytest.fixture
def reg(workspace: Workspace):  # type: ignore[no-untyped-def]
    r = workspace.registry
    r.add_holder("studio-a", "Studio A", "JP")
    r.add_holder("studio-b", "Studio B", "us")
    r.add_work("studio-a", "Sky", "image", work_id="w0001", aliases=[Alias("空", "ja"), "Sora"])
    r.add_work("studio-a", "Sea", "image", work_id="w0002")
    r.add_work("studio-b", "Episode", "video", work_id="v0001")
    return r


def test_holders(reg) -> None:  # type: ignore[no-untyped-def]
    assert [h.slug for h in reg.list_holders()] == ["studio-a", "studio-b"]
    b = reg.get_holder("studio-b")
    assert b.jurisdiction == "US" and b.created_at.tzinfo is not None
    assert reg.get_holder("nobody") is None
    with pytest.raises(Conflict):
        reg.add_holder("studio-a", "again", "JP")


def test_works_aliases_and_generated_ids(reg) -> None:  # type: ignore[no-untyped-def]
    w = reg.get_work("w0001")
    assert (w.holder, w.title, w.kind) == ("studio-a", "Sky", "image")
    assert w.aliases == (Alias("空", "ja"), Alias("Sora", None))
    assert reg.add_work("studio-b", "New", "image").work_id == "w0003"
    reg.add_work("studio-b", "Big", "image", work_id="w0099")
    assert reg.next_work_id() == "w0100"
    assert reg.next_work_id(reserved=["w0500", "x9"]) == "w0501"
    assert [w.work_id for w in reg.list_works("studio-a")] == ["w0001", "w0002"]
    assert reg.holders_of(["w0001", "v0001", "nope"]) == {"w0001": "studio-a", "v0001": "studio-b"}
    with pytest.raises(Conflict):
        reg.add_work("studio-a", "dup", "image", work_id="w0001")
    with pytest.raises(NotFound):
        reg.add_work("nobody", "x", "image")
    with pytest.raises(RegistryError, match="kind"):
        reg.add_work("studio-a", "x", "audio")


def test_media_queue(reg) -> None:  # type: ignore[no-untyped-def]
    m1 = reg.add_media(
        "w0001", sha256="a" * 64, path="media/aa/x.png", original_name="x.png", kind="image", size_bytes=10
    )
    m2 = reg.add_media(
        "v0001", sha256="b" * 64, path="media/bb/y.mp4", original_name="y.mp4", kind="video", size_bytes=20
    )
    assert (m1.work_id, m1.holder, m1.fingerprinted_at) == ("w0001", "studio-a", None)
    with pytest.raises(Conflict):
        reg.add_media("w0001", sha256="a" * 64, path="p", original_name="x", kind="image", size_bytes=1)
    assert [m.id for m in reg.pending_media()] == [m1.id, m2.id]
    reg.mark_fingerprinted(m1.id)
    reg.mark_fingerprinted(m2.id, error="cannot decode")
    assert reg.pending_media() == []
    got = reg.get_media(m2.id)
    assert got.fingerprinted_at is not None and got.fingerprint_error == "cannot decode"
    assert [m.id for m in reg.get_work("w0001").media] == [m1.id]
    assert reg.requeue_media([m2.id]) == 1
    assert [m.id for m in reg.pending_media()] == [m2.id]
    with pytest.raises(NotFound):
        reg.mark_fingerprinted(9999)


def test_notes_and_lookalikes(reg) -> None:  # type: ignore[no-untyped-def]
    """A note for the registrant is kept with the media row; near-identical pairs are
    listed closest first, per holder on either side, and go when a side is fingerprinted
    again."""
    add = lambda work, c: reg.add_media(work, sha256=c * 64, path=f"media/{c}.png", original_name=f"{c}.png",  # noqa: E731
                                        kind="image", size_bytes=1)
    a, b, c = add("w0001", "a"), add("w0002", "b"), add("v0001", "c")
    reg.mark_fingerprinted(a.id, note="too plain")
    assert reg.get_media(a.id).fingerprint_note == "too plain"
    assert reg.get_work("w0001").media[0].fingerprint_note == "too plain"
    reg.record_lookalikes(b.id, [(a.id, 3)])
    reg.record_lookalikes(c.id, [(a.id, 0), (b.id, 12)])
    pairs = reg.list_lookalikes()
    assert [(p.work_id, p.other_work_id, p.distance, p.conflict) for p in pairs] == [
        ("v0001", "w0001", 0, True), ("w0002", "w0001", 3, False), ("v0001", "w0002", 12, True)]
    assert pairs[0].holder == "studio-b" and pairs[0].other_holder == "studio-a"
    assert pairs[0].found_at.tzinfo is not None
    assert len(reg.list_lookalikes("studio-b")) == 2 and len(reg.list_lookalikes("studio-a")) == 3
    reg.record_lookalikes(c.id, [(b.id, 9)])  # replaces c's pairs
    assert [(p.work_id, p.distance) for p in reg.list_lookalikes("studio-b")] == [("v0001", 9)]
    assert reg.requeue_media([b.id]) == 1  # b is fingerprinted again: its own finds go
    assert [(p.work_id, p.other_work_id) for p in reg.list_lookalikes()] == [("v0001", "w0002")]
    assert reg.requeue_media() == 3
    assert reg.list_lookalikes() == [] and reg.get_media(a.id).fingerprint_note is None
    with pytest.raises(NotFound):
        reg.record_lookalikes(a.id, [(9999, 1)])
    with pytest.raises(RegistryError, match="own"):
        reg.record_lookalikes(a.id, [(a.id, 0)])


def test_permit_validity_on_dates(reg) -> None:  # type: ignore[no-untyped-def]
    p = reg.grant_permit(
        "studio-a", "acme", "training", valid_from=date(2025, 1, 1), valid_until=date(2025, 12, 31)
    )
    open_ended = reg.grant_permit("studio-b", "acme", "generation", valid_from=date(2025, 6, 1))
    assert p.all_works and p.scope == "*"
    ids = lambda on: [x.id for x in reg.valid_permits("acme", "training", on)]  # noqa: E731
    assert ids(date(2024, 12, 31)) == []
    assert ids(date(2025, 1, 1)) == [p.id]
    assert ids(date(2025, 12, 31)) == [p.id]
    assert ids(date(2026, 1, 1)) == []
    assert reg.valid_permits("other", "training", date(2025, 3, 1)) == []
    assert [x.id for x in reg.valid_permits("acme", "generation", date(2099, 1, 1))] == [open_ended.id]
    assert reg.permit_for("studio-a", "w0002", "acme", "training", date(2025, 3, 1)).id == p.id
    assert reg.permit_for("studio-b", "v0001", "acme", "training", date(2025, 3, 1)) is None
    with pytest.raises(RegistryError, match="before"):
        reg.grant_permit(
            "studio-a", "acme", "training", valid_from=date(2025, 2, 1), valid_until=date(2025, 1, 1)
        )
    with pytest.raises(RegistryError, match="use"):
        reg.grant_permit("studio-a", "acme", "train", valid_from=date(2025, 2, 1))


def test_revocation_keeps_history(reg) -> None:  # type: ignore[no-untyped-def]
    p = reg.grant_permit("studio-a", "acme", "training", valid_from=date(2025, 1, 1), at=utc(2024, 12, 1))
    revoked = reg.revoke_permit(p.id, "licence fee unpaid", at=utc(2025, 6, 15))
    assert revoked.revoked_at == utc(2025, 6, 15) and revoked.revoke_reason == "licence fee unpaid"
    # valid before the revocation day, not on it nor after
    assert reg.permit_for("studio-a", "w0001", "acme", "training", date(2025, 6, 14)) is not None
    assert reg.permit_for("studio-a", "w0001", "acme", "training", date(2025, 6, 15)) is None
    assert reg.permit_for("studio-a", "w0001", "acme", "training", date(2026, 1, 1)) is None
    assert not revoked.valid_on(date(2025, 6, 15)) and revoked.valid_on(date(2025, 6, 14))
    assert revoked.status(date(2025, 7, 1)) == "revoked"
    # never deleted; both events logged
    assert [x.id for x in reg.list_permits(licensee="acme")] == [p.id]
    events = reg.permit_events(p.id)
    assert [(e.event, e.reason) for e in events] == [("granted", None), ("revoked", "licence fee unpaid")]
    with pytest.raises(Conflict, match="already revoked"):
        reg.revoke_permit(p.id, "again")
    with pytest.raises(NotFound):
        reg.revoke_permit(999, "x")
    with pytest.raises(RegistryError, match="reason"):
        reg.revoke_permit(p.id, " ")


def test_work_list_scope(reg) -> None:  # type: ignore[no-untyped-def]
    p = reg.grant_permit("studio-a", "acme", "training", ["w0002"], valid_from=date(2025, 1, 1))
    assert not p.all_works and p.works == ("w0002",) and p.scope == "w0002"
    assert reg.get_permit(p.id).works == ("w0002",)
    on = date(2025, 5, 1)
    assert reg.permit_for("studio-a", "w0002", "acme", "training", on).id == p.id
    assert reg.permit_for("studio-a", "w0001", "acme", "training", on) is None
    with pytest.raises(RegistryError, match="belongs to 'studio-b'"):
        reg.grant_permit("studio-a", "acme", "training", ["v0001"], valid_from=on)
    with pytest.raises(NotFound):
        reg.grant_permit("studio-a", "acme", "training", ["w0404"], valid_from=on)
    with pytest.raises(RegistryError, match="empty"):
        reg.grant_permit("studio-a", "acme", "training", [], valid_from=on)


def test_reservations(reg) -> None:  # type: ignore[no-untyped-def]
    r = reg.declare_reservation("studio-b", "training", ["v0001"], at=utc(2025, 3, 1))
    everything = reg.declare_reservation("studio-b", "generation", at=utc(2025, 3, 1))
    assert r.covers("v0001") and not r.covers("w0001") and everything.all_works
    assert reg.active_reservations("training", date(2025, 2, 28)) == []
    assert [x.id for x in reg.active_reservations("training", date(2025, 3, 1))] == [r.id]
    reg.withdraw_reservation(r.id, at=utc(2025, 9, 1))
    assert [x.id for x in reg.active_reservations("training", date(2025, 8, 31))] == [r.id]
    assert reg.active_reservations("training", date(2025, 9, 1)) == []
    assert len(reg.list_reservations("studio-b")) == 2  # withdrawn kept
    with pytest.raises(Conflict):
        reg.withdraw_reservation(r.id)


def test_transaction_is_all_or_nothing(reg) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict):
        with reg.transaction():
            reg.add_holder("studio-c", "C", "JP")
            reg.add_work("studio-c", "T", "image", work_id="w0500")
            reg.add_holder("studio-a", "dup", "JP")
    assert reg.get_holder("studio-c") is None and reg.get_work("w0500") is None


def test_naive_datetimes_are_refused(reg) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="naive"):
        reg.grant_permit("studio-a", "acme", "training", valid_from=date(2025, 1, 1), at=datetime(2025, 1, 1))
