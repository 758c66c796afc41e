"""Captions and metadata text in the scan: which texts of an item are read, and
``check_text`` (a prompt or caption checked on its own, for ``kyodaku check-text``).

The worker only collects an item's texts (:func:`item_texts`, cheap and picklable); the
main process matches them against the aliases of the registry (one
:class:`~kyodaku.text.AliasMatcher` per scan) and the consent policy decides
(:meth:`kyodaku.policy.decide.Policy.decide`, ``captions=``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from kyodaku.corpus import Item
from kyodaku.policy.decide import Policy, default_policy
from kyodaku.text import AliasMatcher, best_per_target
from kyodaku.workspace import Workspace

#: item columns (manifest row, or a WebDataset sample's KEY.json) read as text
TEXT_FIELDS = ("caption", "title", "alt", "text", "txt", "description")


def item_texts(item: Item) -> list[list[str]]:
    """``[field, text]`` pairs of an item: its caption (``KEY.txt`` or a manifest caption
    column) and the textual metadata fields, each text once."""
    out: list[list[str]] = []
    seen: set[str] = set()

    def add(name: str, value: Any) -> None:
        if isinstance(value, str) and value.strip() and value not in seen:
            seen.add(value)
            out.append([name, value])

    add("caption", item.caption)
    for name in TEXT_FIELDS:
        add(name, (item.columns or {}).get(name))
    return out


def match_texts(matcher: AliasMatcher, texts: list[list[str]] | list[tuple[str, str]]) -> list[Any]:
    """The works and holders all of an item's texts name, one match per work or holder."""
    found = [m for name, text in texts for m in matcher.match(text, field=name)]
    return best_per_target(found)


def check_text(workspace: Workspace, text: str, *, licensee: str, use: str = "training",
               on: date | None = None, policy: Policy | None = None) -> dict[str, Any]:
    """A caption or prompt decided on its own: ``{"text", "verdict", "reason", "captions"}``
    (``cleared`` or ``review``; the same policy as the scan); ``reason``: what the text
    names that gave the verdict (``kyodaku check-text`` words it for a person:
    :func:`kyodaku.cli.explain.explain_text`)."""
    policy = policy or default_policy()
    on = on or date.today()
    registry = workspace.registry
    view = policy.view_from_registry(registry, licensee, use, on)
    found = match_texts(AliasMatcher.from_registry(registry), [["text", text]])
    decision = policy.decide([], licensee=licensee, use=use, on=on, registry_view=view, captions=found)
    # what the text names, not the image scan's wording ("the caption ...; the registry
    # said: no registered work matched"): the caption behind the verdict, review first
    if not decision.captions:
        reason = "the text names no registered work or holder"
    else:
        first = sorted(decision.captions, key=lambda c: c.verdict != "review")[0]
        reason = first.reason.replace("the caption ", "the text ", 1)
    return {"text": text, "verdict": decision.verdict, "reason": reason,
            "captions": [c.to_json() for c in decision.captions]}
