"""Keyword sets: stored in the registry (audit entry per change), matched in prompts, the
suggested rewrite; precision and recall on the labelled list tests/guard/data/prompt_cases.jsonl."""

from __future__ import annotations

import json

import pytest

from benchmarks.bench_prompts import evaluate, load_registry
from kyodaku.guard import keywords as kw
from kyodaku.guard.keywords import keyword_hits, suggest_rewrite
from kyodaku.registry import RegistryError


@pytest.fixture
def loaded(workspace, monkeypatch):
    monkeypatch.setattr(kw, "RELOAD_SECONDS", 0.0)
    load_registry(workspace)
    return workspace


def test_precision_and_recall_on_the_labelled_prompts(loaded) -> None:
    r = evaluate(loaded)
    assert r["cases"] >= 60
    assert r["precision"] >= 0.95 and r["recall"] >= 0.9, r["wrong"]


def test_a_set_is_added_once_listed_removed_and_audited(loaded) -> None:
    reg = loaded.registry
    before = len(reg.list_keyword_sets("w-mouse"))
    k = reg.add_keyword_set("w-mouse", "en", ["  Pocket ", "MONSTER"])
    assert k.keywords == ("monster", "pocket") and k.holder == "nintenbo"
    assert reg.add_keyword_set("w-mouse", "en", ["pocket", "monster"]).id == k.id
    assert len(reg.list_keyword_sets("w-mouse")) == before + 1
    assert [h.set_id for h in keyword_hits(reg, "a pocket monster")] == [k.id]
    reg.remove_keyword_set(k.id)
    assert keyword_hits(reg, "a pocket monster") == []
    with loaded.session() as s:
        from kyodaku.audit.outbox import AuditOutboxRow

        events = [r.data["event"] for r in s.query(AuditOutboxRow).filter_by(kind="keywords")
                  if r.data.get("set_id") == k.id]
    assert events == ["added", "removed"]
    with pytest.raises(RegistryError):
        reg.add_keyword_set("w-mouse", "en", [])
    with pytest.raises(RegistryError):
        reg.add_keyword_set("nope", "en", ["x"])


def test_the_rewrite_drops_the_keywords_and_names_them_in_the_negative_prompt(loaded) -> None:
    hits = keyword_hits(loaded.registry, "a videogame plumber jumping, pixel art")
    prompt, negative = suggest_rewrite("a videogame plumber jumping, pixel art", "blurry", hits)
    assert "plumber" not in prompt and "videogame" not in prompt and "jumping" in prompt
    assert negative.split(", ")[0] == "blurry" and {"plumber", "videogame"} <= set(negative.split(", "))
    alias = {"alias": "Super Plumber Bros", "text": "super plumber bros"}
    prompt, negative = suggest_rewrite("Super Plumber Bros poster", "", [alias])
    assert prompt == "poster" and negative == "Super Plumber Bros"
    assert json.loads(json.dumps(hits[0].to_json()))["work_id"] == "w-plumber"
