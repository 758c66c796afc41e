"""The consent decision, in one place, driven by ``policies.json``.

``Policy.decide`` is pure: it reads a :class:`RegistryView` (valid permits, active
reservations, holder jurisdictions), never the database.  Build the view once per scan
with :meth:`Policy.view_from_registry`.

Per matched work (``score`` in 0..1):

- ``score < review``: ignored (cleared).
- a permit valid on the date covers the work for this licensee and use: cleared.
- prior-permission holder: ``score >= block`` blocked, else review.
- opt-out holder: with an active reservation of that use on the work, ``score >= block``
  blocked, else review; without one, cleared.

A file is blocked if any match is blocked, else review if any is, else cleared.

Rights signals embedded in the file (C2PA, IPTC, recorded TDMRep / X-Robots-Tag; see
:mod:`kyodaku.signals`) come last and only ever make a verdict stricter: a reservation of
this use blocks the file even when no registered work matched (and even where a permit
covers a matched work: the file's own reservation is honoured, fail closed); a signal
that could not be read turns a clear into review.

Works and holders named in the item's caption and metadata text (see :mod:`kyodaku.text`)
come before the signals and, like them, only make a verdict stricter (``captions`` in
``policies.json``): a caption that names a work, or asks for the style, of a holder whose
consent model needs a permit (or who reserved the use, under opt-out) and who gave this
licensee no valid permit for this use turns a clear into review.  A permitted holder's
work named in a caption is recorded and changes nothing.  Asking for a holder's style
needs a permit covering all the holder's works.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError, model_validator

from kyodaku.policy.rules import MatchRules, PolicyError
from kyodaku.registry.base import ALL_WORKS, USES, Permit, Registry, Reservation

__all__ = [
    "CaptionVerdict",
    "Decision",
    "MatchRules",
    "MatchVerdict",
    "Policy",
    "PolicyError",
    "RegistryView",
    "decide",
    "default_policy",
]

Verdict = Literal["blocked", "review", "cleared"]
Consent = Literal["prior_permission", "opt_out"]
_SEVERITY = {"cleared": 0, "review": 1, "blocked": 2}


class _Jurisdiction(BaseModel):
    consent: Consent
    note: str = ""
    members: list[str] = []


class _Thresholds(BaseModel):
    block: float
    review: float

    @model_validator(mode="after")
    def _ordered(self) -> _Thresholds:
        if not 0.0 <= self.review <= self.block <= 1.0:
            raise ValueError(f"need 0 <= review <= block <= 1, got review={self.review} block={self.block}")
        return self


class _Matching(BaseModel):
    """Where the matcher scores variants, partly redrawn copies, explained matches and
    single video frames (see :mod:`kyodaku.policy.rules`, which checks they fit together)."""

    variant_band: tuple[float, float]
    partly_redrawn_band: tuple[float, float]
    explained_cap: float
    single_frame_cap: float


CaptionKind = Literal["names_work", "names_holder", "asks_style"]


class _Captions(BaseModel):
    #: the kinds of caption match that can send an item to review
    kinds: list[CaptionKind] = ["names_work", "asks_style"]
    #: matches scoring below this (1 - edits / alias length) are recorded only
    min_score: float = 0.0
    #: under an opt-out law, only a holder who reserved the use is honoured (as for copies)
    honour_opt_out: bool = True

    @model_validator(mode="after")
    def _score(self) -> _Captions:
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"need 0 <= min_score <= 1, got {self.min_score}")
        return self


class PolicyConfig(BaseModel):
    default_jurisdiction: str
    thresholds: _Thresholds
    matching: _Matching
    jurisdictions: dict[str, _Jurisdiction]
    captions: _Captions = _Captions()

    @model_validator(mode="after")
    def _default_known(self) -> PolicyConfig:
        if self.default_jurisdiction not in self.jurisdictions:
            raise ValueError(f"default_jurisdiction {self.default_jurisdiction!r} is not in jurisdictions")
        return self


@dataclass(frozen=True)
class RegistryView:
    """What a decision reads: permits, reservations, holder -> jurisdiction (and work -> holder)."""

    permits: tuple[Permit, ...] = ()
    reservations: tuple[Reservation, ...] = ()
    jurisdictions: Mapping[str, str] = field(default_factory=dict)
    work_holders: Mapping[str, str] = field(default_factory=dict)
    _by_holder: dict[str, list[Permit]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for p in self.permits:
            self._by_holder.setdefault(p.holder, []).append(p)

    def permit_for(self, holder: str, work_id: str, licensee: str, use: str, on: date) -> Permit | None:
        for p in self._by_holder.get(holder, ()):
            if p.licensee == licensee and p.use == use and p.covers(work_id) and p.valid_on(on):
                return p
        return None

    def any_reservation(self, holder: str, use: str, on: date) -> Reservation | None:
        """Any active reservation of ``use`` by ``holder``, whatever works it covers."""
        for r in self.reservations:
            if r.holder == holder and r.use == use and r.active_on(on):
                return r
        return None

    def reservation_for(self, holder: str, work_id: str, use: str, on: date) -> Reservation | None:
        for r in self.reservations:
            if r.holder == holder and r.use == use and r.covers(work_id) and r.active_on(on):
                return r
        return None


@dataclass(frozen=True)
class MatchVerdict:
    work_id: str
    holder: str
    score: float
    verdict: Verdict
    reason: str
    consent: Consent
    jurisdiction: str
    permit_id: int | None = None
    reservation_id: int | None = None


@dataclass(frozen=True)
class CaptionVerdict:
    """A work or holder named in the item's text, and what it does to the verdict."""

    work_id: str | None  # None: the holder's own name (a style request)
    holder: str
    alias: str
    text: str
    kind: str
    score: float
    verdict: Verdict  # "review" or "cleared" (recorded only)
    reason: str
    field: str | None = None
    permit_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if v is not None or k == "work_id"}
        d["score"] = round(self.score, 4)
        return d


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str
    permit_id: int | None
    matches: tuple[MatchVerdict, ...] = ()
    captions: tuple[CaptionVerdict, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "permit_id": self.permit_id,
            "matches": [m.__dict__.copy() for m in self.matches],
            "captions": [c.to_json() for c in self.captions],
        }


def _get(match: Any, name: str) -> Any:
    return match.get(name) if isinstance(match, Mapping) else getattr(match, name, None)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if key in ("thresholds", "matching", "jurisdictions", "captions") and isinstance(value, Mapping):
            out[key] = {**out.get(key, {}), **value}
        else:
            out[key] = value
    return out


class Policy:
    """Consent models per jurisdiction plus the numbers that decide a verdict (see
    ``policies.json`` and :mod:`kyodaku.policy.rules` for its numbers' schema).  Raises
    :class:`PolicyError` when the numbers do not fit together."""

    def __init__(self, config: PolicyConfig) -> None:
        self.config = config
        m = config.matching
        #: what the matcher reads (review band, block threshold, caps and bands)
        self.matching = MatchRules(review=config.thresholds.review, block=config.thresholds.block,
                                   variant_band=m.variant_band, partly_redrawn_band=m.partly_redrawn_band,
                                   explained_cap=m.explained_cap, single_frame_cap=m.single_frame_cap)
        self._codes: dict[str, str] = {}
        for code, rule in config.jurisdictions.items():
            self._codes[code.upper()] = code
            for member in rule.members:
                self._codes.setdefault(member.upper(), code)

    # -- loading ---------------------------------------------------------------------------
    @staticmethod
    def packaged_data() -> dict[str, Any]:
        text = resources.files("kyodaku.policy").joinpath("policies.json").read_text(encoding="utf-8")
        data: dict[str, Any] = json.loads(text)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Policy:
        try:
            return cls(PolicyConfig.model_validate({k: v for k, v in data.items() if not k.startswith("_")}))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(x) for x in first.get("loc", ()))
            raise PolicyError(f"invalid policy: {loc}: {first.get('msg')}".replace(": : ", ": ")) from None

    @classmethod
    def load(cls, path: str | Path | None = None) -> Policy:
        """The packaged policy, with a user JSON file (if given) merged over it."""
        data = cls.packaged_data()
        if path is not None:
            try:
                user = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise PolicyError(f"cannot read policy file {path}: {exc}") from None
            if not isinstance(user, dict):
                raise PolicyError(f"policy file {path}: expected a JSON object")
            data = _merge(data, user)
        return cls.from_dict(data)

    # -- facts -----------------------------------------------------------------------------
    @property
    def block_threshold(self) -> float:
        return self.config.thresholds.block

    @property
    def review_threshold(self) -> float:
        return self.config.thresholds.review

    def consent_model(self, jurisdiction: str | None) -> tuple[str, Consent]:
        """(the rule's jurisdiction code, its consent model); unknown ones use the default."""
        code = self._codes.get((jurisdiction or "").upper(), self.config.default_jurisdiction)
        return code, self.config.jurisdictions[code].consent

    @staticmethod
    def view_from_registry(
        registry: Registry, licensee: str, use: str, on: date, *, work_holders: bool = True
    ) -> RegistryView:
        """Load once per scan what :meth:`decide` needs for this licensee, use and date."""
        holders = registry.list_holders()
        mapping: dict[str, str] = {}
        if work_holders:
            mapping = {w.work_id: w.holder for w in registry.list_works()}
        return RegistryView(
            permits=tuple(registry.valid_permits(licensee, use, on)),
            reservations=tuple(registry.active_reservations(use, on)),
            jurisdictions={h.slug: h.jurisdiction for h in holders},
            work_holders=mapping,
        )

    # -- the decision ----------------------------------------------------------------------
    def judge(
        self,
        work_id: str,
        holder: str,
        score: float,
        *,
        licensee: str,
        use: str,
        on: date,
        view: RegistryView,
    ) -> MatchVerdict:
        """The verdict on one matched work."""
        code, consent = self.consent_model(view.jurisdictions.get(holder))

        def verdict(
            v: Verdict, reason: str, permit_id: int | None = None, rid: int | None = None
        ) -> MatchVerdict:
            return MatchVerdict(work_id, holder, score, v, reason, consent, code, permit_id, rid)

        block, review = self.block_threshold, self.review_threshold
        if score < review:
            reason = f"score {score:.2f} for {work_id} is below the review threshold {review:.2f}"
            return verdict("cleared", reason)
        permit = view.permit_for(holder, work_id, licensee, use, on)
        if permit is not None:
            return verdict("cleared", permit.describe(), permit.id)
        no_permit = f"{licensee} has no {use} permit from {holder} for {work_id}"
        if consent == "prior_permission":
            if score >= block:
                return verdict("blocked", f"no permit: {no_permit}")
            reason = f"possible copy (score {score:.2f}) and no permit: {no_permit}"
            return verdict("review", reason)
        reservation = view.reservation_for(holder, work_id, use, on)
        if reservation is None:
            reason = f"opt-out ({code}): {holder} has not reserved {use} of {work_id}"
            return verdict("cleared", reason)
        reserved = (
            f"reserved: {holder} reserved {use} of {work_id} (reservation {reservation.id}) and {no_permit}"
        )
        if score >= block:
            return verdict("blocked", reserved, rid=reservation.id)
        reason = f"possible copy (score {score:.2f}); {reserved}"
        return verdict("review", reason, rid=reservation.id)

    def decide(
        self,
        matches: Iterable[Any],
        *,
        licensee: str,
        use: str,
        on: date,
        registry_view: RegistryView,
        signals: Any = None,
        captions: Iterable[Any] = (),
    ) -> Decision:
        """The verdict on one scanned file from its matches (objects or dicts with
        ``work_id``, ``score`` and ``holder``; a missing holder is looked up in the view),
        the works and holders its caption names (:class:`kyodaku.text.CaptionMatch` or
        dicts) and, when given, the file's embedded rights signals (a
        :class:`kyodaku.signals.SignalReport`)."""
        if use not in USES:
            raise ValueError(f"use must be 'training' or 'generation', got {use!r}")
        verdicts = []
        for m in matches:
            work_id = str(_get(m, "work_id"))
            holder = _get(m, "holder") or registry_view.work_holders.get(work_id) or "(unknown holder)"
            score = float(_get(m, "score"))
            verdicts.append(
                self.judge(work_id, holder, score, licensee=licensee, use=use, on=on, view=registry_view)
            )
        verdicts.sort(key=lambda v: (-_SEVERITY[v.verdict], -v.score, v.work_id))
        if not verdicts or verdicts[0].score < self.review_threshold:
            reason = "no registered work matched"
            if verdicts:
                reason += (
                    f" (best score {max(v.score for v in verdicts):.2f} < review {self.review_threshold:.2f})"
                )
            decision = Decision("cleared", reason, None, tuple(verdicts))
        else:
            top = verdicts[0]
            decision = Decision(top.verdict, top.reason, top.permit_id, tuple(verdicts))
        judged = tuple(self.judge_caption(c, licensee=licensee, use=use, on=on, view=registry_view)
                       for c in captions)
        decision = self._apply_captions(decision, judged)
        return self._apply_signals(decision, signals, use) if signals is not None else decision

    def judge_caption(self, match: Any, *, licensee: str, use: str, on: date, view: RegistryView) -> CaptionVerdict:
        """What one work or holder named in a caption does: ``review`` or recorded only."""
        work_id = _get(match, "work_id")
        holder = str(_get(match, "holder"))
        kind = str(_get(match, "kind"))
        score = float(_get(match, "score"))
        rules = self.config.captions
        what = (f"asks for the style of {work_id or holder}" if kind == "asks_style"
                else f"names {work_id}" if work_id else f"names {holder}")
        said = f"the caption {what} ({_get(match, 'text')!r} ~ {_get(match, 'alias')!r})"

        def verdict(v: Verdict, reason: str, permit_id: int | None = None) -> CaptionVerdict:
            return CaptionVerdict(work_id, holder, str(_get(match, "alias")), str(_get(match, "text")), kind, score,
                                  v, reason, _get(match, "field"), permit_id)

        if kind not in rules.kinds:
            return verdict("cleared", f"{said}; recorded only ({kind} is not acted on)")
        if score < rules.min_score:
            return verdict("cleared", f"{said}; recorded only (score {score:.2f} < {rules.min_score:.2f})")
        # a style is the holder's whole output: only a permit for all its works covers it
        scope = work_id if work_id and kind != "asks_style" else ALL_WORKS
        permit = view.permit_for(holder, scope, licensee, use, on)
        if permit is not None:
            return verdict("cleared", f"{said}; {permit.describe()}", permit.id)
        code, consent = self.consent_model(view.jurisdictions.get(holder))
        no_permit = f"{licensee} has no {use} permit from {holder}" + (f" for {scope}" if scope != ALL_WORKS
                                                                        else " for all its works")
        if consent == "opt_out" and rules.honour_opt_out:
            reserved = (view.reservation_for(holder, scope, use, on) if scope != ALL_WORKS
                        else view.any_reservation(holder, use, on))
            if reserved is None:
                return verdict("cleared", f"{said}; opt-out ({code}): {holder} has not reserved {use}")
            return verdict("review", f"{said}, {holder} reserved {use} (reservation {reserved.id}) and {no_permit}")
        return verdict("review", f"{said} and {no_permit}")

    @staticmethod
    def _apply_captions(decision: Decision, captions: tuple[CaptionVerdict, ...]) -> Decision:
        """A caption naming an unpermitted work sends a cleared item to review; never laxer."""
        if not captions:
            return decision
        decision = replace(decision, captions=captions)
        flagged = [c for c in captions if c.verdict == "review"]
        if decision.verdict != "cleared" or not flagged:
            return decision
        return replace(decision, verdict="review", permit_id=None,
                       reason=f"{flagged[0].reason}; the registry said: {decision.reason}")

    @staticmethod
    def _apply_signals(decision: Decision, signals: Any, use: str) -> Decision:
        """Embedded rights signals make a verdict stricter, never laxer."""
        if decision.verdict == "blocked":
            return decision
        reserved = signals.reservation_for(use)
        if reserved is not None:
            reason = f"reserved by an embedded rights signal ({reserved.source}: {reserved.detail})"
            if decision.verdict != "cleared" or decision.permit_id is not None:
                reason += f"; the registry said: {decision.reason}"
            return replace(decision, verdict="blocked", reason=reason, permit_id=None)
        unreadable = signals.unreadable()
        if unreadable and decision.verdict == "cleared":
            bad = unreadable[0]
            return replace(decision, verdict="review", permit_id=None,
                           reason=f"a rights signal could not be read ({bad.source}: {bad.detail}); "
                                  f"the registry said: {decision.reason}")
        return decision


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The packaged policy (loaded on first use, then cached)."""
    return Policy.load()


def decide(
    matches: Iterable[Any], *, licensee: str, use: str, on: date, registry_view: RegistryView
) -> Decision:
    """:meth:`Policy.decide` with the packaged policy."""
    return default_policy().decide(matches, licensee=licensee, use=use, on=on, registry_view=registry_view)
