"""The numbers that decide a verdict come from the loaded policy, and a policy whose numbers
do not fit together is refused with a message naming them (issue 21, item 3)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from kyodaku.policy import MatchRules, Policy, PolicyError, default_policy
from kyodaku.scan.cache import ScanCache
from kyodaku.scan.matcher import _in_band

#: a consistent policy with the review threshold raised and every band and cap moved with it
RAISED = {"thresholds": {"review": 0.5, "block": 0.7},
          "matching": {"variant_band": [0.5, 0.55], "partly_redrawn_band": [0.55, 0.65], "explained_cap": 0.65,
                       "single_frame_cap": 0.5}}


def _load(tmp_path: Path, data: dict) -> Policy:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return Policy.load(path)


def test_the_packaged_policy_holds_the_numbers_the_matcher_used_to_hold():
    """review 0.3, block 0.5; variants in [0.3, 0.375], partly redrawn copies in [0.375,
    0.45]; explained matches at most 0.45 (the former EXPLAINED_CAP); a single video frame
    at most 0.3; the appearance check from 0.3 (APPEARANCE_MIN_SCORE) and look-alikes from
    0.5 (LOOK_ALIKE_MIN_SCORE)."""
    rules = default_policy().matching
    assert (rules.review, rules.block) == (0.3, 0.5)
    assert rules.variant_band == (0.3, 0.375) and rules.partly_redrawn_band == (0.375, 0.45)
    assert rules.explained_cap == 0.45 and rules.single_frame_cap == 0.3
    assert rules.appearance_min == 0.3 and rules.look_alike_min == 0.5
    assert "placeholder" not in json.dumps(Policy.packaged_data())


def test_the_default_bands_score_as_the_former_half_band_formula():
    """The former formula: 0.3 + (0.45 - 0.3) / 2 * (upper + strength).  The bands give the
    same score, to the 6 decimals a result line keeps, for any strength."""
    rules = default_policy().matching
    rng = random.Random(21)
    for strength in [0.0, 1.0, 0.5, *(rng.random() for _ in range(200_000))]:
        for upper, band in ((0.0, rules.variant_band), (1.0, rules.partly_redrawn_band)):
            old = 0.3 + (0.45 - 0.3) / 2 * (upper + strength)
            assert round(_in_band(strength, band), 6) == round(old, 6), (strength, band)


def test_a_consistent_policy_moves_every_number(tmp_path):
    rules = _load(tmp_path, RAISED).matching
    assert (rules.review, rules.block, rules.explained_cap, rules.single_frame_cap) == (0.5, 0.7, 0.65, 0.5)
    assert rules.variant_band == (0.5, 0.55) and rules.appearance_min == 0.5 and rules.look_alike_min == 0.7
    # a user file may set one number and keep the packaged others
    one = _load(tmp_path, {"matching": {"single_frame_cap": 0.4}}).matching
    assert one.single_frame_cap == 0.4 and one.variant_band == (0.3, 0.375)


@pytest.mark.parametrize("override, message", [
    ({"thresholds": {"review": 0.5}},
     "thresholds.review = 0.5 must be below thresholds.block = 0.5"),
    ({"thresholds": {"review": 0.5, "block": 0.7}},
     "matching.variant_band[0] = 0.3 is below thresholds.review = 0.5"),
    ({"matching": {"explained_cap": 0.6}},
     "matching.explained_cap = 0.6 is not below thresholds.block = 0.5: an explained match would be blocked"),
    ({"matching": {"variant_band": [0.3, 0.5]}},
     "matching.variant_band[1] = 0.5 is not below thresholds.block = 0.5: a variant would be blocked"),
    ({"matching": {"variant_band": [0.3, 0.48], "partly_redrawn_band": [0.4, 0.45]}},
     "matching.partly_redrawn_band[0] = 0.4 is below matching.variant_band[1] = 0.48"),
    ({"matching": {"partly_redrawn_band": [0.375, 0.47]}},
     "matching.explained_cap = 0.45 is below matching.partly_redrawn_band[1] = 0.47"),
    ({"matching": {"single_frame_cap": 0.2}},
     "matching.single_frame_cap = 0.2 is below thresholds.review = 0.3: a single video frame would be cleared"),
    ({"matching": {"single_frame_cap": 1.5}}, "matching.single_frame_cap = 1.5 is outside 0..1"),
    ({"thresholds": {"block": 1.2}}, "need 0 <= review <= block <= 1"),
])
def test_a_policy_whose_numbers_do_not_fit_together_is_refused(tmp_path, override, message):
    with pytest.raises(PolicyError, match="invalid policy") as err:
        _load(tmp_path, override)
    assert message in str(err.value), str(err.value)


def test_every_problem_is_named_at_once():
    with pytest.raises(PolicyError) as err:
        MatchRules(review=0.5, block=0.6, variant_band=(0.3, 0.375), partly_redrawn_band=(0.375, 0.45),
                   explained_cap=0.65, single_frame_cap=0.3)
    text = str(err.value)
    for name in ("variant_band[0] = 0.3", "explained_cap = 0.65 is not below", "single_frame_cap = 0.3 is below"):
        assert name in text, text


def test_the_scan_cache_scope_follows_the_matching_numbers(tmp_path):
    """Matches scored under other bands or caps are not served to a scan under these."""
    ws = SimpleNamespace(home=tmp_path, fingerprints_dir=tmp_path / "fp", index_dir=tmp_path / "ix")
    default = ScanCache.for_workspace(ws)
    same = ScanCache.for_workspace(ws, rules=default_policy().matching)
    raised = ScanCache.for_workspace(ws, rules=Policy.from_dict({**Policy.packaged_data(), **RAISED}).matching)
    try:
        assert default.scope == same.scope != raised.scope
    finally:
        for c in (default, same, raised):
            c.close()
