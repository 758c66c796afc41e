"""A permit's licensee, a holder's slug and an account's username cannot hide characters
(issue 18, item 7): what is shown is what is matched."""

from __future__ import annotations

from datetime import date

import pytest

from kyodaku.registry.base import RegistryError

HIDDEN = ["\u202e", "\u202d", "\u2066", "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u0007", "\t",
          "\u2028", "\u2029", "\ue000", "\U000f0000", "\u0378", "\u3164", "\u034f", "\ufe0f"]


@pytest.mark.parametrize("ch", HIDDEN)
def test_a_licensee_with_an_invisible_character_is_refused(workspace, ch):
    reg = workspace.registry
    reg.add_holder("hoshi", "Hoshi", "JP")
    with pytest.raises(RegistryError, match=r"invisible or control character, U\+"):
        reg.grant_permit("hoshi", f"acme{ch}-video-ai", "training", valid_from=date(2026, 1, 1))
    assert reg.list_permits() == []


def test_the_error_names_the_character(workspace):
    workspace.registry.add_holder("hoshi", "Hoshi", "JP")
    with pytest.raises(RegistryError, match="U\\+202E RIGHT-TO-LEFT OVERRIDE, at position 5"):
        workspace.registry.grant_permit("hoshi", "acme\u202eia-oediv", "training", valid_from=date(2026, 1, 1))


def test_a_licensee_is_nfkc_normalised_and_stripped(workspace):
    reg = workspace.registry
    reg.add_holder("hoshi", "Hoshi", "JP")
    p = reg.grant_permit("hoshi", "  ａｃｍｅ-video-ai\u3000", "training", valid_from=date(2026, 1, 1))
    assert p.licensee == "acme-video-ai"
    assert [q.id for q in reg.valid_permits("acme-video-ai", "training", date(2026, 6, 1))] == [p.id]
    p = reg.grant_permit("hoshi", "Studio Kyōdaku 協諾", "training", valid_from=date(2026, 1, 1))
    assert p.licensee == "Studio Kyōdaku 協諾"  # visible non-ASCII text is kept
    with pytest.raises(RegistryError, match="must not be empty"):
        reg.grant_permit("hoshi", " \u3000 ", "training", valid_from=date(2026, 1, 1))


@pytest.mark.parametrize("slug", ["ho\u200bshi", " hoshi", "hoshi\n", "ｈｏｓｈｉ", "ho\u202eshi"])
def test_holder_slugs_are_plain(workspace, slug):
    with pytest.raises(RegistryError):
        workspace.registry.add_holder(slug, "Hoshi", "JP")
    assert workspace.registry.list_holders() == []


@pytest.mark.parametrize("username", ["ops\u200b", "o\u202eps", " ops", "ｏｐｓ", "ops\x00"])
def test_desk_usernames_are_plain(workspace, username):
    from kyodaku.desk import DeskService

    with pytest.raises(RegistryError):
        DeskService(workspace).add_account(username, "operator", password="correct horse battery")
