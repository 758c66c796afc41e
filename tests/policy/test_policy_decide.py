"""The consent decision: verdict table for both consent models, thresholds, several
matches, loading the view from a registry, and policy files."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from kyodaku.policy import Decision, Policy, PolicyError, RegistryView, decide
from kyodaku.registry import Permit, Reservation
from kyodaku.workspace import Workspace

ON = date(2026, 6, 1)
T0 = datetime(2020, 1, 1, tzinfo=UTC)
JURISDICTIONS = {"jp-studio": "JP", "us-studio": "US", "de-studio": "DE", "mars-studio": "XX"}


def permit(
    holder: str = "jp-studio",
    *,
    id: int = 12,
    licensee: str = "acme",
    use: str = "training",
    works: tuple[str, ...] = (),
    start: date = date(2025, 1, 1),
    until: date | None = date(2030, 12, 31),
    revoked: datetime | None = None,
) -> Permit:
    return Permit(
        id, holder, licensee, use, not works, works, start, until, T0, revoked, "r" if revoked else None
    )


def reservation(
    holder: str = "us-studio",
    *,
    use: str = "training",
    works: tuple[str, ...] = (),
    declared: datetime = T0,
    withdrawn: datetime | None = None,
) -> Reservation:
    return Reservation(7, holder, use, not works, works, declared, withdrawn)


def verdict(holder: str, score: float, *, permits=(), reservations=(), use: str = "training") -> Decision:  # type: ignore[no-untyped-def]
    view = RegistryView(tuple(permits), tuple(reservations), JURISDICTIONS)
    return decide(
        [{"work_id": "w0003", "holder": holder, "score": score}],
        licensee="acme",
        use=use,
        on=ON,
        registry_view=view,
    )


utc = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731

PRIOR_PERMISSION = [
    # (score, permits, expected verdict)
    (0.9, [], "blocked"),
    (0.5, [], "blocked"),  # block threshold is inclusive
    (0.49, [], "review"),
    (0.3, [], "review"),  # review threshold is inclusive
    (0.29, [], "cleared"),
    (0.9, [permit()], "cleared"),
    (0.4, [permit()], "cleared"),
    (0.9, [permit(until=date(2026, 5, 31))], "blocked"),  # expired
    (0.9, [permit(start=date(2026, 6, 2))], "blocked"),  # not yet valid
    (0.9, [permit(until=None)], "cleared"),  # open-ended
    (0.9, [permit(revoked=utc(2026, 6, 1, 8))], "blocked"),  # revoked that day
    (0.9, [permit(revoked=utc(2026, 6, 2))], "cleared"),  # revoked later: still valid on ON
    (0.9, [permit(licensee="other")], "blocked"),
    (0.9, [permit(use="generation")], "blocked"),
    (0.9, [permit(holder="us-studio")], "blocked"),  # another holder's permit
    (0.9, [permit(works=("w0003",))], "cleared"),
    (0.9, [permit(works=("w0001", "w0002"))], "blocked"),
]


@pytest.mark.parametrize("holder", ["jp-studio", "mars-studio"])  # unknown jurisdiction -> JP default
@pytest.mark.parametrize("score,permits,expected", PRIOR_PERMISSION)
def test_prior_permission(holder: str, score: float, permits: list[Permit], expected: str) -> None:
    permits = [replace(p, holder=holder) if p.holder == "jp-studio" else p for p in permits]
    d = verdict(holder, score, permits=permits)
    assert d.verdict == expected
    assert d.matches[0].consent == "prior_permission"
    assert (d.permit_id == 12) == (expected == "cleared" and score >= 0.3)


OPT_OUT = [
    # (score, permits, reservations, expected verdict)
    (0.9, [], [], "cleared"),
    (0.9, [], [reservation()], "blocked"),
    (0.4, [], [reservation()], "review"),
    (0.2, [], [reservation()], "cleared"),
    (0.9, [permit("us-studio")], [reservation()], "cleared"),  # the permit wins over the reservation
    (0.9, [], [reservation(use="generation")], "cleared"),
    (0.9, [], [reservation(works=("w0009",))], "cleared"),
    (0.9, [], [reservation(works=("w0003",))], "blocked"),
    (0.9, [], [reservation(declared=utc(2026, 6, 2))], "cleared"),  # declared after the date
    (0.9, [], [reservation(withdrawn=utc(2026, 5, 1))], "cleared"),  # withdrawn before
    (0.9, [], [reservation(withdrawn=utc(2026, 7, 1))], "blocked"),
    (0.9, [], [reservation("jp-studio")], "cleared"),  # someone else's reservation
]


@pytest.mark.parametrize("holder", ["us-studio", "de-studio"])  # DE is an EU member: opt-out
@pytest.mark.parametrize("score,permits,reservations,expected", OPT_OUT)
def test_opt_out(holder: str, score: float, permits, reservations, expected: str) -> None:  # type: ignore[no-untyped-def]
    permits = [replace(p, holder=holder) if p.holder == "us-studio" else p for p in permits]
    reservations = [replace(r, holder=holder) if r.holder == "us-studio" else r for r in reservations]
    d = verdict(holder, score, permits=permits, reservations=reservations)
    assert d.verdict == expected
    assert d.matches[0].consent == "opt_out"


def test_reasons() -> None:
    d = verdict("jp-studio", 0.9)
    assert d.reason == "no permit: acme has no training permit from jp-studio for w0003"
    assert d.permit_id is None
    d = verdict("jp-studio", 0.9, permits=[permit()])
    assert d.reason == "permit 12 (jp-studio -> acme, training, valid 2025-01-01..2030-12-31)"
    d = verdict("jp-studio", 0.9, permits=[permit(until=None, works=("w0003",))])
    assert d.reason == "permit 12 (jp-studio -> acme, training, works w0003, valid 2025-01-01..open)"
    assert verdict("jp-studio", 0.1).reason.startswith("no registered work matched")
    assert verdict("us-studio", 0.9, reservations=[reservation()]).reason.startswith(
        "reserved: us-studio reserved"
    )
    assert decide([], licensee="acme", use="training", on=ON, registry_view=RegistryView()).reason == (
        "no registered work matched"
    )


def test_several_matches() -> None:
    view = RegistryView((permit(works=("w0001",)),), (), JURISDICTIONS)
    m = lambda w, s: {"work_id": w, "holder": "jp-studio", "score": s}  # noqa: E731
    kw = dict(licensee="acme", use="training", on=ON, registry_view=view)
    d = decide([m("w0001", 0.95), m("w0002", 0.4), m("w0003", 0.8)], **kw)
    assert d.verdict == "blocked" and "w0003" in d.reason
    assert [(v.work_id, v.verdict) for v in d.matches] == [
        ("w0003", "blocked"),
        ("w0002", "review"),
        ("w0001", "cleared"),
    ]
    d = decide([m("w0001", 0.95), m("w0002", 0.4)], **kw)
    assert d.verdict == "review" and d.permit_id is None
    d = decide([m("w0001", 0.95), m("w0002", 0.1)], **kw)
    assert d.verdict == "cleared" and d.permit_id == 12


def test_match_objects_and_holder_lookup() -> None:
    @dataclass
    class Match:
        work_id: str
        score: float
        holder: str | None = None

    view = RegistryView((), (), JURISDICTIONS, work_holders={"w0003": "us-studio"})
    d = decide([Match("w0003", 0.9)], licensee="acme", use="training", on=ON, registry_view=view)
    assert d.verdict == "cleared" and d.matches[0].holder == "us-studio"  # opt-out, nothing reserved
    d = decide([Match("w0404", 0.9)], licensee="acme", use="training", on=ON, registry_view=view)
    assert d.verdict == "blocked"  # unknown holder: the consent-first default applies
    assert d.to_dict()["matches"][0]["work_id"] == "w0404"
    with pytest.raises(ValueError):
        decide([], licensee="acme", use="train", on=ON, registry_view=view)


def test_view_from_registry(workspace: Workspace) -> None:
    reg = workspace.registry
    reg.add_holder("jp-studio", "JP Studio", "JP")
    reg.add_holder("us-studio", "US Studio", "US")
    reg.add_work("jp-studio", "A", "image", work_id="w0001")
    reg.add_work("us-studio", "B", "image", work_id="w0002")
    reg.add_work("jp-studio", "C", "image", work_id="w0003")
    p = reg.grant_permit("jp-studio", "acme", "training", ["w0001"], valid_from=date(2025, 1, 1))
    reg.declare_reservation("us-studio", "training", at=T0)
    policy = Policy.load()
    view = policy.view_from_registry(reg, "acme", "training", ON)
    assert [x.id for x in view.permits] == [p.id] and len(view.reservations) == 1
    got = {
        w: policy.decide(
            [{"work_id": w, "score": 0.9}], licensee="acme", use="training", on=ON, registry_view=view
        ).verdict
        for w in ("w0001", "w0002", "w0003")
    }
    assert got == {"w0001": "cleared", "w0002": "blocked", "w0003": "blocked"}
    reg.revoke_permit(p.id, "ended", at=datetime(2026, 3, 1, tzinfo=UTC))
    view = policy.view_from_registry(reg, "acme", "training", ON)
    d = policy.decide(
        [{"work_id": "w0001", "score": 0.9}], licensee="acme", use="training", on=ON, registry_view=view
    )
    assert d.verdict == "blocked"


def test_policy_file(tmp_path: Path) -> None:
    packaged = Policy.load()
    assert packaged.config.default_jurisdiction == "JP"
    assert (packaged.block_threshold, packaged.review_threshold) == (0.5, 0.3)
    user = tmp_path / "policy.json"
    user.write_text(
        json.dumps({"thresholds": {"block": 0.8}, "jurisdictions": {"JP": {"consent": "opt_out"}}})
    )
    p = Policy.load(user)
    assert (p.block_threshold, p.review_threshold) == (0.8, 0.3)
    assert p.consent_model("JP") == ("JP", "opt_out") and p.consent_model("FR") == ("EU", "opt_out")
    view = RegistryView((), (), JURISDICTIONS)
    assert (
        p.decide(
            [{"work_id": "w", "holder": "jp-studio", "score": 0.9}],
            licensee="a",
            use="training",
            on=ON,
            registry_view=view,
        ).verdict
        == "cleared"
    )
    user.write_text(json.dumps({"thresholds": {"review": 0.9}}))
    with pytest.raises(PolicyError, match="review <= block"):
        Policy.load(user)
    user.write_text(json.dumps({"default_jurisdiction": "ZZ"}))
    with pytest.raises(PolicyError, match="default_jurisdiction"):
        Policy.load(user)
    user.write_text("{broken")
    with pytest.raises(PolicyError, match="cannot read"):
        Policy.load(user)
