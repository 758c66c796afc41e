from __future__ import annotations

import pytest

from kyodaku.signals import read_signals
from kyodaku.signals.manifest import parse_x_robots_tag, signals_from_columns


def _st(row, **kw):
    return [(s.source, s.status) for s in signals_from_columns(row, **kw)]


@pytest.mark.parametrize("key", ["tdm-reservation", "tdm_reservation", "TDM-Reservation"])
@pytest.mark.parametrize("value", [1, "1", True, 1.0])
def test_tdm_reservation_reserves(key, value):
    assert _st({key: value}) == [("tdmrep", "reserved")]


@pytest.mark.parametrize("value", [0, "0", False])
def test_tdm_reservation_zero_is_allowed(value):
    assert _st({"tdm-reservation": value, "tdm-policy": "https://x.example/policy.json"}) == [("tdmrep", "allowed")]


def test_tdm_policy_recorded():
    sigs = signals_from_columns({"tdm_reservation": 1, "tdm_policy": "https://pub.example/tdm.json"})
    assert len(sigs) == 1 and "https://pub.example/tdm.json" in sigs[0].detail
    only_policy = signals_from_columns({"tdm-policy": "https://pub.example/tdm.json"})
    assert [s.status for s in only_policy] == ["reserved"]


@pytest.mark.parametrize("value", ["2", "yes", 7, [1]])
def test_tdm_unparseable(value):
    assert _st({"tdm-reservation": value}) == [("tdmrep", "unreadable")]
    assert _st({"tdm-policy": "not a url"}) == [("tdmrep", "unreadable")]


@pytest.mark.parametrize("directive", ["noai", "noimageai", "noml", "noindex", "noimageindex", "none"])
@pytest.mark.parametrize("key", ["x-robots-tag", "X-Robots-Tag", "x_robots_tag"])
def test_x_robots_reserving_directives(directive, key):
    sigs = signals_from_columns({key: f"nofollow, {directive.upper()}"})
    assert [(s.source, s.use, s.status) for s in sigs] == [("x-robots-tag", "training", "reserved")]


def test_x_robots_user_agent_prefix():
    assert parse_x_robots_tag("googlebot: noai, noindex") == ("googlebot", ["noai", "noindex"])
    assert parse_x_robots_tag("unavailable_after: 25 Jun 2010") == (None, ["unavailable_after: 25 jun 2010"])
    sigs = signals_from_columns({"X-Robots-Tag": "otherbot: noai"})
    assert sigs[0].status == "reserved" and "otherbot" in sigs[0].detail
    # img2dataset semantics: only our user agents (and unprefixed values) count
    assert _st({"X-Robots-Tag": "otherbot: noai"}, user_agents=["img2dataset"]) == []
    assert _st({"X-Robots-Tag": "img2dataset: noai"}, user_agents=["img2dataset"]) == [("x-robots-tag", "reserved")]
    assert _st({"X-Robots-Tag": "noai"}, user_agents=["img2dataset"]) == [("x-robots-tag", "reserved")]


def test_x_robots_list_and_benign_values():
    assert _st({"x-robots-tag": ["noarchive", "noimageai"]}) == [("x-robots-tag", "reserved")]
    assert _st({"x-robots-tag": "nofollow, noarchive, max-image-preview:large"}) == []
    assert _st({"x-robots-tag": "unavailable_after: 25 Jun 2010 15:00:00 PST"}) == []


@pytest.mark.parametrize("value", ["no ai!", 42, {"a": 1}, "bad bot: noai"])
def test_x_robots_unparseable(value):
    assert _st({"x-robots-tag": value}) == [("x-robots-tag", "unreadable")]


@pytest.mark.parametrize("key", ["robots_txt", "robots.txt", "Robots-TXT"])
def test_robots_txt_verdicts(key):
    assert _st({key: "disallowed"}) == [("robots.txt", "reserved")]
    assert _st({key: "Allowed"}) == [("robots.txt", "allowed")]
    assert _st({key: "perhaps"}) == [("robots.txt", "unreadable")]


def test_empty_cells_give_nothing():
    assert _st({"tdm-reservation": None, "x-robots-tag": "", "robots_txt": float("nan"), "url": "x"}) == []


def test_reservation_without_registered_work_blocks_via_report():
    report = read_signals(None, columns={"tdm-reservation": 1})
    assert report.reservation_for("training") is not None
    assert report.reservation_for("generation") is None
    with pytest.raises(ValueError):
        report.reservation_for("inference")  # type: ignore[arg-type]
