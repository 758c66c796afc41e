"""The generation guard: a long-lived :class:`Guard` screens a model's outputs (images,
videos) and prompts for the desk's licensee, use ``generation``, with the scan's own
functions (:func:`kyodaku.scan.pipeline.match_item` and :meth:`Scanner.decide`), so an
output gets the verdict ``kyodaku scan --use generation`` gives the same file.

The reference set, its indexes, the policy view and the aliases stay loaded; before a
screening the guard checks, at most every :data:`RELOAD_CHECK_SECONDS`, whether the
registry or the reference set changed (:func:`kyodaku.guard.stamp.registry_stamp`) and
loads them again if so: a new work or a revoked permit counts from the next screening,
without a restart.

Every screening is a recorded decision (source ``screen``, :mod:`kyodaku.records`) with
its audit entry, committed together; the decision's line holds the ``registry_digest`` of
the state it was screened against (:func:`kyodaku.guard.stamp.registry_digest`), which a
signed output's manifest repeats (:func:`kyodaku.guard.provenance.sign_screened`).  ``kyodaku serve`` (``POST /api/v1/screen/*``),
``kyodaku screen`` and programs call :meth:`Guard.screen_output` and
:meth:`Guard.screen_prompt`.  Nothing unreadable is cleared: a file that is no image or
video, truncated or undecodable is an ``error`` (:class:`ScreenRefused`, recorded too).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kyodaku.audit import AuditLog
from kyodaku.audit.outbox import drain_quietly, record
from kyodaku.corpus import iter_items
from kyodaku.guard.drain import Drainer
from kyodaku.guard.evidence import save_query_frames
from kyodaku.guard.keywords import KeywordMatcher, suggest_rewrite
from kyodaku.guard.limits import check_limits
from kyodaku.guard.stamp import registry_digest, registry_stamp
from kyodaku.media.sniff import FORMAT_SUFFIX, SNIFF_BYTES, sniff_format
from kyodaku.policy.decide import Policy, default_policy
from kyodaku.records.store import record_screening
from kyodaku.registry.base import utcnow
from kyodaku.scan.captions import match_texts
from kyodaku.scan.matcher import Matcher
from kyodaku.scan.pipeline import Scanner, ScanOptions, match_item
from kyodaku.scan.refset import ReferenceSet
from kyodaku.scan.threads import one_thread_per_query
from kyodaku.text.matcher import CaptionMatch
from kyodaku.workspace import Workspace

__all__ = ["Guard", "MatchedWork", "RELOAD_CHECK_SECONDS", "ScreenRefused", "ScreenResult", "prompt_digest"]

#: the guard looks for registry and reference-set changes at most this often (seconds)
RELOAD_CHECK_SECONDS = 1.0
USE = "generation"


class ScreenRefused(ValueError):
    """An upload the guard cannot screen: ``status`` 413 (over a limit) or 422 (no image
    or video, truncated, undecodable); ``result`` is its recorded ``error`` decision."""

    def __init__(self, message: str, status: int = 422, result: ScreenResult | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.result = result


@dataclass(frozen=True)
class MatchedWork:
    work_id: str
    holder: str | None
    score: float
    method: str | None
    verdict: str | None
    reason: str | None = None
    permit_id: int | None = None
    query_segment: tuple[float, float] | None = None
    ref_segment: tuple[float, float] | None = None
    #: the desk's side-by-side evidence image of this match (query frame | reference)
    evidence_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"work_id": self.work_id, "holder": self.holder, "score": self.score,
                               "method": self.method, "verdict": self.verdict, "reason": self.reason,
                               "permit_id": self.permit_id, "evidence_url": self.evidence_url}
        if self.query_segment is not None:
            out["query_segment"] = list(self.query_segment)
            out["ref_segment"] = list(self.ref_segment) if self.ref_segment else None
        return out


@dataclass(frozen=True)
class ScreenResult:
    decision_id: int
    verdict: str
    reason: str | None
    kind: str  # "image", "video", "prompt"
    works: tuple[MatchedWork, ...] = ()
    #: works and holders named in the prompt (alias matches, with their verdicts)
    captions: tuple[dict[str, Any], ...] = ()
    #: keyword-set hits and the suggested rewrite (prompt screening)
    keywords: tuple[dict[str, Any], ...] = ()
    rewrite: dict[str, str] | None = None
    seconds: float = 0.0
    line: dict[str, Any] = field(default_factory=dict, repr=False)
    #: when the decision was recorded, and the digest of the registry state it was made against
    at: datetime | None = None
    registry_digest: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"decision_id": self.decision_id, "verdict": self.verdict, "reason": self.reason,
                               "kind": self.kind, "works": [w.to_json() for w in self.works],
                               "captions": list(self.captions), "seconds": round(self.seconds, 4),
                               "registry_digest": self.registry_digest}
        if self.kind == "prompt":
            out["keywords"] = list(self.keywords)
            out["rewrite"] = self.rewrite
        return out


def prompt_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def evidence_path(decision_id: int, index: int) -> str:
    """The desk's route of a decision's ``index``-th match's evidence image."""
    return f"/api/v1/screen/decisions/{decision_id}/evidence/{index}.jpg"


@dataclass
class _Loaded:
    scanner: Scanner
    matcher: Matcher
    stamp: tuple[Any, ...]
    on: str
    #: the registry's keyword sets as loaded with this state (the stamp covers them, so a
    #: prompt's keyword hits and its recorded registry digest describe the same registry)
    keywords: KeywordMatcher
    #: :func:`registry_digest` of ``stamp``, recorded with every decision made on this state
    digest: str = ""

    def __post_init__(self) -> None:
        self.digest = registry_digest(self.stamp)


class Guard:
    """Screens outputs and prompts for ``licensee`` (use ``generation``) against one
    workspace; thread-safe (the desk calls it from its request threads)."""

    def __init__(self, workspace: Workspace, licensee: str, *, policy: Policy | None = None,
                 policy_file: Path | None = None, keep_prompts: bool = False, max_pixels: int = 40_000_000,
                 max_seconds: float = 600.0, clock: Callable[[], datetime] = utcnow,
                 reload_every: float = RELOAD_CHECK_SECONDS, background_drain: bool = False,
                 frame_threads: int | None = None) -> None:
        self.workspace = workspace
        self.licensee = licensee
        self.policy_file = policy_file
        self._fixed_policy = policy
        self.keep_prompts = keep_prompts
        self.max_pixels = max_pixels
        self.max_seconds = max_seconds
        self.clock = clock
        self.reload_every = reload_every
        #: threads matching one screened video's keyframes (default: the CPUs, at most 4)
        self.frame_threads = frame_threads if frame_threads is not None else min(4, os.cpu_count() or 1)
        self.reloads = 0
        self._lock = threading.Lock()
        self._loaded: _Loaded | None = None
        self._checked = 0.0
        self._audit: AuditLog | None = None
        #: append audit entries to the file log off the request path (kyodaku serve); the
        #: entry is committed with the decision before the answer either way
        self._drainer = Drainer(workspace.session, self._audit_log) if background_drain else None

    # -- the loaded state ----------------------------------------------------------------------
    def _policy(self) -> Policy:
        if self._fixed_policy is not None:
            return self._fixed_policy
        return Policy.load(self.policy_file) if self.policy_file else default_policy()

    def _load(self) -> _Loaded:
        one_thread_per_query()  # requests come on threads: no native thread team per call
        policy = self._policy()
        on = self.clock().date()
        scanner = Scanner(self.workspace, ScanOptions(self.licensee, USE, on, workers=0, policy=policy, cache=False))
        ws = self.workspace
        matcher = Matcher(ReferenceSet(ws.fingerprints_dir, ws.index_dir), rules=policy.matching,
                          frame_threads=self.frame_threads)
        self.reloads += 1
        # fingerprinting pending references changed the stores: stamp what was loaded
        return _Loaded(scanner, matcher, registry_stamp(ws, self.policy_file), on.isoformat(),
                       KeywordMatcher(ws.registry.list_keyword_sets()))

    def state(self) -> _Loaded:
        """The loaded state, loaded again first if the registry or reference set changed
        (checked at most every ``reload_every`` seconds)."""
        now = time.monotonic()
        loaded = self._loaded
        if loaded is not None and now - self._checked < self.reload_every:
            return loaded
        with self._lock:
            loaded = self._loaded
            if loaded is not None and time.monotonic() - self._checked < self.reload_every:
                return loaded
            stamp = registry_stamp(self.workspace, self.policy_file)
            if loaded is None or stamp != loaded.stamp or self.clock().date().isoformat() != loaded.on:
                loaded = self._load()
                self._loaded = loaded
            self._checked = time.monotonic()
            return loaded

    def reload(self) -> None:
        """Load everything again now (tests; the desk reloads by itself)."""
        with self._lock:
            self._loaded = self._load()
            self._checked = time.monotonic()

    # -- outputs -----------------------------------------------------------------------------
    def screen_output(self, source: str | Path | bytes, prompt: str | None = None,
                      name: str | None = None) -> ScreenResult:
        """Screen one generated image or video (a file, or its bytes).  Raises
        :class:`ScreenRefused` (recorded as an ``error`` decision) when it cannot be
        screened; never clears it."""
        if isinstance(source, bytes):
            fmt = sniff_format(source[:SNIFF_BYTES])
            suffix = FORMAT_SUFFIX.get(fmt or "", ".bin")
            with tempfile.TemporaryDirectory(prefix="kyodaku-screen-") as tmp:
                path = Path(tmp) / f"output{suffix}"
                path.write_bytes(source)
                return self.screen_output(path, prompt, name or "output")
        t0 = time.perf_counter()
        path = Path(source)
        name = name or path.name
        loaded = self.state()
        problem = check_limits(path, max_pixels=self.max_pixels, max_seconds=self.max_seconds)
        if problem is not None:
            line = {"path": name, "media": problem.kind, "verdict": "error", "reason": problem.message,
                    "matches": []}
            result = self._record(line, "output", prompt, t0, digest=loaded.digest)
            raise ScreenRefused(problem.message, problem.status, result)
        items = list(iter_items([str(path)]))
        if not items:
            found: dict[str, Any] = {"media": None, "error": "not an image or video"}
        else:
            item = items[0]
            found = ({"media": item.kind, "error": item.error} if item.error is not None
                     else match_item(item, loaded.matcher))
        if prompt and "error" not in found:
            found["texts"] = [*found.get("texts", []), ["prompt", prompt]]
        line = loaded.scanner.decide(name, found)
        line.pop("seconds", None)
        result = self._record(line, "output", prompt, t0, query=path, digest=loaded.digest)
        if result.verdict == "error":
            raise ScreenRefused(str(result.reason), 422, result)
        return result

    # -- prompts -----------------------------------------------------------------------------
    def screen_prompt(self, prompt: str, negative_prompt: str = "") -> ScreenResult:
        """Screen a prompt before generation: the works and holders it names (aliases,
        titles; as ``kyodaku check-text``, use ``generation``) and the works whose
        descriptive keyword sets it holds (:class:`kyodaku.guard.keywords.KeywordMatcher`).
        A keyword hit is judged as a caption naming its work (``review`` without a
        generation permit of the work's holder, cleared with one); when the verdict is not
        ``cleared`` the answer suggests a ``rewrite`` (prompt and negative prompt).  The
        negative prompt names what is not wanted: it is never a hit (it is recorded, hashed
        like the prompt)."""
        t0 = time.perf_counter()
        loaded = self.state()
        scanner = loaded.scanner
        found = match_texts(scanner.aliases, [["prompt", prompt]]) if prompt.strip() else []
        hits = loaded.keywords.match(prompt) if prompt.strip() else []  # never the negative prompt
        as_captions = [CaptionMatch(h.work_id, h.holder, ", ".join(h.keywords), " ".join(h.matched), "names_work",
                                    1.0, "prompt keywords") for h in hits]
        decision = scanner.policy.decide([], licensee=self.licensee, use=USE, on=scanner.options.on,
                                         registry_view=scanner.view, captions=[*found, *as_captions])
        verdict, reason = decision.verdict, decision.reason
        judged = list(decision.captions)
        named, by_keywords = judged[:len(found)], judged[len(found):]
        keywords: list[dict[str, Any]] = [{**h.to_json(), "verdict": j.verdict, "reason": j.reason,
                                           "permit_id": j.permit_id} for h, j in zip(hits, by_keywords, strict=True)]
        rewrite = None
        if verdict != "cleared":
            flagged = ([m for m, j in zip(found, named, strict=True) if j.verdict == "review"]
                       + [h for h, j in zip(hits, by_keywords, strict=True) if j.verdict == "review"])
            new_prompt, new_negative = suggest_rewrite(prompt, negative_prompt, flagged)
            rewrite = {"prompt": new_prompt, "negative_prompt": new_negative}
        if verdict == "cleared" and not decision.captions:
            reason = "the prompt names no registered work or holder"
        line: dict[str, Any] = {"path": "prompt", "media": "prompt", "verdict": verdict, "reason": reason,
                                "permit_id": decision.permit_id, "matches": []}
        if named:
            line["captions"] = [c.to_json() for c in named]
        if keywords:
            line["keywords"] = keywords
        return self._record(line, "prompt", prompt, t0, negative_prompt=negative_prompt, rewrite=rewrite,
                            digest=loaded.digest)

    # -- the record --------------------------------------------------------------------------
    def _prompt_fields(self, prompt: str | None, negative: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, text in (("prompt", prompt), ("negative_prompt", negative)):
            if not text:
                continue
            out[f"{key}_sha256"] = prompt_digest(text)
            if self.keep_prompts:
                out[key] = text
        return out

    def _record(self, line: dict[str, Any], kind: str, prompt: str | None, t0: float, *,
                query: Path | None = None, negative_prompt: str | None = None,
                rewrite: dict[str, str] | None = None, digest: str | None = None) -> ScreenResult:
        now = self.clock()
        captions = line.get("captions") or []
        keywords = line.get("keywords") or []
        if not self.keep_prompts:  # a caption or keyword match quotes the text it was found in
            captions = [{k: v for k, v in c.items() if k != "text"} for c in captions]
            keywords = [{k: v for k, v in h.items() if k != "matched"} for h in keywords]
        kept = {**line, **self._prompt_fields(prompt, negative_prompt), "captions": captions, "keywords": keywords,
                "screen": kind, "registry_digest": digest}
        for key in ("captions", "keywords"):
            if not kept[key]:
                kept.pop(key)
        with self.workspace.session() as s:
            decision_id = record_screening(s, kept, licensee=self.licensee, at=now)
            record(s, "screen", {"decision": decision_id, "kind": kind, "licensee": self.licensee,
                                 "verdict": line["verdict"], "reason": line.get("reason"),
                                 **{k: v for k, v in self._prompt_fields(prompt, negative_prompt).items()
                                    if k.endswith("_sha256")},
                                 "works": [[m["work_id"], m.get("holder"), round(float(m["score"]), 4),
                                            m.get("verdict")] for m in line.get("matches", [])]}, now)
        if self._drainer is not None:
            self._drainer.kick()
        else:
            drain_quietly(self.workspace.session, self._audit_log)
        matches = list(line.get("matches") or [])
        urls: dict[int, str] = {}
        if query is not None and matches:
            saved = save_query_frames(self.workspace, decision_id, query, line.get("media"), matches)
            urls = {i: evidence_path(decision_id, i) for i in saved}
        works = tuple(MatchedWork(m["work_id"], m.get("holder"), round(float(m["score"]), 6), m.get("method"),
                                  m.get("verdict"), m.get("reason"), m.get("permit_id"),
                                  tuple(m["query_segment"]) if m.get("query_segment") else None,
                                  tuple(m["ref_segment"]) if m.get("ref_segment") else None, urls.get(i))
                      for i, m in enumerate(matches))
        return ScreenResult(decision_id, line["verdict"], line.get("reason"),
                            kind if kind == "prompt" else str(line.get("media") or "unknown"), works,
                            tuple(line.get("captions") or ()), tuple(line.get("keywords") or ()), rewrite,
                            time.perf_counter() - t0, kept, now, digest)

    def flush_audit(self, timeout: float = 30.0) -> bool:
        """Wait until every screening so far is in the signed file log (background drain)."""
        return self._drainer.flush(timeout) if self._drainer is not None else True

    def close(self) -> None:
        if self._drainer is not None:
            self._drainer.close()

    def _audit_log(self) -> AuditLog:
        if self._audit is None:
            self._audit = AuditLog.for_workspace(self.workspace)
        return self._audit


def _hit_json(hit: Any) -> dict[str, Any]:
    if hasattr(hit, "to_json"):
        return dict(hit.to_json())
    from dataclasses import asdict, is_dataclass

    return asdict(hit) if is_dataclass(hit) else {"term": str(hit)}



