"""Refusals on the desk's pages in the page's language: an upload the desk will not keep
(:mod:`kyodaku.desk.storage`'s message keys) and a claim step its state or deadline does
not allow (a 409).  The API answers with the service's English ``detail``."""

from __future__ import annotations

from typing import Any

from kyodaku.desk.lifecycle import ACTIONS
from kyodaku.desk.storage import Refusal, refusals

__all__ = ["is_refusal", "not_possible", "refusal_text"]


def refusal_text(t: Any, exc: BaseException) -> str:
    """A storage refusal (an upload the desk will not keep: unreadable media, too large,
    over the quota) in the page's language, from its message keys
    (:func:`kyodaku.desk.storage.refusals`); other refusals as the service said them."""
    said = []
    for key, params in refusals(exc):
        params = dict(params)
        if "cause" in params:
            params["cause"] = t(f"media_cause_{params['cause']}")
        said.append(t(key, **params))
    head = [said.pop(0)] if refusals(exc)[0][0] == "media_not_registered" else []
    return " ".join([*head, t("refusal_sep").join(said)])


def is_refusal(exc: BaseException) -> bool:
    return isinstance(exc, Refusal) or any(k != "refusal_text" for k, _ in refusals(exc))


def not_possible(t: Any, claim: Any, action: str, when: Any) -> str:
    """Why a claim cannot take ``action`` now (its state, or the deadline of its step)."""
    step = ACTIONS[action]
    name = t(f"action_{action}")
    if claim.state not in step.sources:
        return t("claim_not_now", id=claim.id, action=name, state=t(f"state_{claim.state}"),
                 needs=t("or").join(t(f"state_{s}") for s in step.sources))
    if step.before_deadline:
        return t("claim_window_closed", action=name, due=when(claim.due_at))
    return t("claim_too_early", action=name, due=when(claim.due_at))
