"""The scan: read files, folders, WebDataset shards and manifests, match every item against the reference set in
worker processes, decide each verdict with the consent policy, write one JSON line per
file (the format of the evaluation sets' README), and summarise.

The library, the CLI (``kyodaku scan`` / ``kyodaku check``) and the service call
:func:`scan_paths` and :func:`check_file`.  Nothing is cleared because it could not be
read: unreadable, truncated and hostile files become ``error`` lines and the scan goes on.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from kyodaku.audit import AuditLog
from kyodaku.corpus import Item, iter_items
from kyodaku.corpus.items import media_problem
from kyodaku.media.images import load_image
from kyodaku.media.sniff import FORMAT_KIND, SNIFF_BYTES, VIDEO_SUFFIX, read_head, sniff_format
from kyodaku.media.types import MediaError
from kyodaku.policy.decide import MatchRules, Policy, RegistryView, default_policy
from kyodaku.records.store import ScanRecorder
from kyodaku.scan.captions import item_texts, match_texts
from kyodaku.scan.crossmedia import match_video
from kyodaku.scan.executor_local import LocalProcesses, default_workers
from kyodaku.scan.matcher import Matcher
from kyodaku.scan.raymap import connect, ray_scan_map
from kyodaku.scan.refset import ReferenceSet
from kyodaku.scan.threads import one_thread_per_query
from kyodaku.signals import Signal, SignalReport, read_signals
from kyodaku.text import AliasMatcher
from kyodaku.workspace import Workspace

#: scanned images are decoded at this size (the methods downscale further)
QUERY_MAX_SIDE = 1024

#: a file that takes longer than this (seconds) is an error line; long enough for hours
#: of video at the measured 30x real time, short enough that a stuck decoder cannot stall
DEFAULT_FILE_TIMEOUT = 600.0

_WORKER: dict[str, Matcher] = {}


def _init_worker(fingerprints_dir: str, index_dir: str, rules: MatchRules | None = None) -> None:
    """A worker's matcher, scoring under ``rules`` (the scan's policy; default: the packaged one)."""
    one_thread_per_query()
    _WORKER["matcher"] = Matcher(ReferenceSet(Path(fingerprints_dir), Path(index_dir)), rules=rules)


def _sniff(item: Item) -> tuple[str | None, str | None]:
    """(format, why it cannot be scanned) of the bytes this worker is about to read."""
    if item.data is not None:
        head = item.data[:SNIFF_BYTES]
    else:
        try:
            head = read_head(str(item.path), SNIFF_BYTES)
        except (OSError, ValueError, TypeError):
            return None, None  # the loader says why (not found, permission denied...)
    fmt = sniff_format(head)
    return fmt, media_problem(fmt, head)


def match_item(item: Item, matcher: Matcher) -> dict[str, Any]:
    """Matches, rights signals and texts of one item: ``{"media", "matches", "signals",
    "texts"}`` or ``{"media", "error"}``.

    What the item is comes from the bytes read here, never from its name or from what
    the walker saw: a picture named ``x.mp4`` is matched as a picture, a video named
    ``x.png`` as a video; anything else is an error.  Every video is decoded, at least
    until a frame proves it decodable, whatever the reference set holds."""
    t0 = time.perf_counter()
    source: str | bytes = item.data if item.data is not None else str(item.path)
    fmt, problem = _sniff(item)
    kind = FORMAT_KIND.get(fmt) if fmt else None
    if problem is not None:
        return {"media": kind, "error": problem}
    try:
        if kind == "video":
            matches = _match_video(item, matcher, fmt)
        else:  # an image, or a file that could not be opened: load_image says why
            matches = matcher.match_image(load_image(source, max_side=QUERY_MAX_SIDE))
    except MediaError as exc:
        return {"media": kind, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - one bad file must not end the scan
        return {"media": kind, "error": f"unexpected {type(exc).__name__}: {exc}"}
    signals = read_signals(source, columns=item.columns)  # never raises
    return {"media": kind, "matches": [m.to_json() for m in matches],
            "signals": [asdict(s) for s in signals.signals], "texts": item_texts(item),
            "seconds": round(time.perf_counter() - t0, 4)}


def _match_video(item: Item, matcher: Matcher, fmt: str | None = None) -> list[Any]:
    """A video's matches with registered videos and pictures (:mod:`kyodaku.scan.crossmedia`)."""
    if item.data is None:
        return match_video(matcher, str(item.path))
    # a video inside a shard: the decoder wants a file (named for what its bytes are)
    with tempfile.NamedTemporaryFile(suffix=VIDEO_SUFFIX.get(fmt or "", ".mp4")) as tmp:
        tmp.write(item.data)
        tmp.flush()
        return match_video(matcher, tmp.name)


def _task(item: Item) -> dict[str, Any]:
    return match_item(item, _WORKER["matcher"])


def _crash(item: Item, reason: str) -> dict[str, Any]:
    return {"media": item.kind, "error": reason}


@dataclass
class ScanOptions:
    licensee: str
    use: str = "training"
    on: date = field(default_factory=date.today)
    workers: int | None = None
    policy: Policy | None = None
    #: seconds one file may take before it is reported as an error (a stuck decoder)
    file_timeout: float = DEFAULT_FILE_TIMEOUT
    #: reuse the matches of content already matched against this reference set
    #: (:mod:`kyodaku.scan.cache`); False fingerprints everything again
    cache: bool = True
    #: match on a Ray cluster instead of local processes: ``"auto"`` or its address
    ray: str | None = None
    #: folders a manifest's path column may point into besides the manifest's own folder
    allow_outside: tuple[str, ...] = ()


@dataclass
class ScanSummary:
    total: int = 0
    verdicts: Counter = field(default_factory=Counter)
    blocked_by_holder: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    #: the scan's id in the workspace's scan records
    record_id: int | None = None
    #: the scan cache's hits, misses and stored entries (empty without a cache)
    cache: dict[str, int] = field(default_factory=dict)
    #: what was skipped inside folders, without a result line: ``not_media`` files
    #: (bytes no image or video, names promising none)
    skipped: Counter = field(default_factory=Counter)

    def add(self, line: dict[str, Any]) -> None:
        self.total += 1
        self.verdicts[line["verdict"]] += 1
        if line["verdict"] == "blocked":
            for m in line.get("matches", []):
                if m.get("verdict") == "blocked":
                    self.blocked_by_holder[m.get("holder", "?")] += 1
                    break


class Scanner:
    """A scan against one workspace for one licensee, use and date."""

    def __init__(self, workspace: Workspace, options: ScanOptions) -> None:
        from kyodaku.scan.references import fingerprint_pending

        self.workspace = workspace
        self.options = options
        self.policy = options.policy or default_policy()
        self.warnings: list[str] = []
        registry = workspace.registry
        # references added, or made stale by a new method version, are fingerprinted first
        fingerprint_pending(workspace, progress=False, workers=options.workers)
        failed = [m for m in registry.list_media() if m.fingerprint_error]
        for m in failed:
            self.warnings.append(f"reference {m.original_name} of {m.work_id} could not be fingerprinted "
                                 f"({m.fingerprint_error}): copies of it cannot be detected")
        self.view: RegistryView = self.policy.view_from_registry(registry, options.licensee, options.use,
                                                                 options.on)
        if not self.view.work_holders:
            self.warnings.append("the registry holds no works: every file will be cleared")
        # titles, aliases and holder names, looked for in captions (see kyodaku.scan.captions)
        self.aliases = AliasMatcher.from_registry(registry)

    def decide(self, path: str, found: dict[str, Any]) -> dict[str, Any]:
        line: dict[str, Any] = {"path": path, "media": found.get("media")}
        if "error" in found:
            line.update(verdict="error", reason=found["error"], matches=[])
            return line
        matches = found["matches"]
        signals = SignalReport([Signal(**s) for s in found.get("signals", [])])
        captions = match_texts(self.aliases, found.get("texts", []))
        decision = self.policy.decide(matches, licensee=self.options.licensee, use=self.options.use,
                                      on=self.options.on, registry_view=self.view, signals=signals,
                                      captions=captions)
        judged = {v.work_id: v for v in decision.matches}
        for m in matches:
            v = judged.get(m["work_id"])
            if v is not None:
                m.update(holder=v.holder, verdict=v.verdict, reason=v.reason)
                if v.permit_id is not None:
                    m["permit_id"] = v.permit_id
        line.update(verdict=decision.verdict, reason=decision.reason, permit_id=decision.permit_id,
                    matches=matches)
        if signals.signals:
            line["signals"] = found["signals"]
        if decision.captions:
            line["captions"] = [c.to_json() for c in decision.captions]
        return line

    def run(self, items: Iterable[Item]) -> Iterator[dict[str, Any]]:
        """Yield one decided result line per item, in input order.  Matching runs in
        local worker processes, or on Ray (``options.ray``); content already matched
        against this reference set comes from the scan cache (``options.cache``) and only
        its verdict is decided again."""
        from kyodaku.scan.cache import ScanCache, item_digest

        cache = ScanCache.for_workspace(self.workspace, rules=self.policy.matching) if self.options.cache else None
        digests: dict[str, str] = {}  # item id -> digest, for the items in flight that missed

        def ready(item: Item) -> dict[str, Any] | None:
            if item.error is not None:  # nothing to read: its error line keeps its place
                return {"media": item.kind, "error": item.error}
            if cache is None:
                return None
            digest = item_digest(item)
            if digest is None:
                return None
            found = cache.get(digest)
            if found is None:
                digests[item.id] = digest
            return found

        try:
            for item, found in self._map(items, ready):
                digest = digests.pop(item.id, None)
                if cache is not None and digest is not None:
                    cache.put(digest, found)  # before decide() adds verdicts to the matches
                yield self.decide(item.id, found)
        finally:
            if cache is not None:
                self.cache_stats = cache.stats()
                cache.close()

    #: the last run's cache hits, misses and stored entries
    cache_stats: dict[str, int] = {}

    def _map(self, items: Iterable[Item], ready: Callable[[Item], dict[str, Any] | None],
             ) -> Iterator[tuple[Item, dict[str, Any]]]:
        """``(item, worker output)`` in input order, from local processes or Ray."""
        ws = self.workspace
        if self.options.ray:
            started = connect(self.options.ray)
            try:
                yield from ray_scan_map(_task, items, initializer=_init_worker, fingerprints_dir=ws.fingerprints_dir,
                                        index_dir=ws.index_dir, workers=self.options.workers, on_crash=_crash,
                                        item_timeout=self.options.file_timeout, ready=ready,
                                        rules=self.policy.matching)
            finally:
                if started:
                    import ray

                    ray.shutdown()
            return
        workers = default_workers() if self.options.workers is None else self.options.workers
        pool = LocalProcesses(workers, initializer=_init_worker,
                              initargs=(str(ws.fingerprints_dir), str(ws.index_dir), self.policy.matching))
        yield from pool.map(_task, items, on_crash=_crash, item_timeout=self.options.file_timeout, ready=ready)


def resume_state(results: Path) -> tuple[set[str], list[dict[str, Any]]]:
    """What an interrupted scan already wrote to ``results``: the ids (paths) done and
    their lines.  A last line cut short by a crash or ``kill -9`` is removed from the file,
    so its item is scanned again and written once."""
    if not results.exists():
        return set(), []
    raw = results.read_bytes()
    keep = raw[: raw.rfind(b"\n") + 1]  # complete lines only
    lines = []
    for number, text in enumerate(keep.decode("utf-8").splitlines(), 1):
        try:
            lines.append(json.loads(text))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{results}:{number}: not a result line ({exc}); cannot resume from it") from None
    if len(keep) != len(raw):
        with open(results, "r+b") as f:
            f.truncate(len(keep))
    return {line["path"] for line in lines}, lines


#: result lines are written (and their verdicts audit-logged) in batches of at most this
#: many lines or this many seconds, whichever comes first
FLUSH_LINES = 64
FLUSH_SECONDS = 2.0


def _audit_verdict(line: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of one result line."""
    return {"path": line["path"], "verdict": line["verdict"], "reason": line.get("reason"),
            "permit_id": line.get("permit_id"),
            "works": [[m["work_id"], m.get("holder"), round(float(m["score"]), 4), m.get("verdict")]
                      for m in line.get("matches", []) if m.get("verdict") in ("blocked", "review")
                      or m.get("permit_id") is not None],
            "signals": [f"{s['source']}:{s['use']}:{s['status']}" for s in line.get("signals", [])],
            "captions": [[c.get("work_id"), c["holder"], c["alias"], c["kind"]] for c in line.get("captions", [])
                         if c.get("verdict") == "review"]}


def _audit_scan(options: ScanOptions, paths: list[str]) -> dict[str, Any]:
    entry = {"licensee": options.licensee, "use": options.use, "on": options.on.isoformat(), "paths": paths}
    if options.allow_outside:
        entry["allow_outside"] = [str(p) for p in options.allow_outside]
    return entry


def scan_paths(workspace: Workspace, paths: Iterable[str | Path], options: ScanOptions,
               out: TextIO | None = None,
               on_result: Callable[[dict[str, Any]], None] | None = None,
               done: set[str] | None = None, name: str | None = None) -> ScanSummary:
    """Scan files and folders; write JSON lines to ``out``; return the summary.  Items
    whose id is in ``done`` (a resumed scan, see :func:`resume_state`) are skipped.

    The scan is recorded in the workspace database under ``name`` (default: the inputs),
    for claims and inquiries (:mod:`kyodaku.records`); a resumed scan continues its record.

    The scan, every verdict and the totals are appended to the workspace's audit log.  A
    batch of verdicts is logged before its result lines are written, so a crash loses both
    together and ``--resume`` scans (and logs) that batch again."""
    t0 = time.perf_counter()
    paths = [str(p) for p in paths]
    scanner = Scanner(workspace, options)
    audit = AuditLog.for_workspace(workspace)
    audit.append("scan", {**_audit_scan(options, paths), "resumed_with": len(done or ())})
    recorder = ScanRecorder(workspace.session, name=name or " ".join(paths), licensee=options.licensee,
                            use=options.use, on=options.on, inputs=paths, resume=bool(done))
    summary = ScanSummary(warnings=list(scanner.warnings))
    items = iter_items(paths, allow_outside=options.allow_outside, stats=summary.skipped)
    if done:
        items = (item for item in items if item.id not in done)
    batch: list[dict[str, Any]] = []
    last_flush = time.monotonic()

    def flush() -> None:
        nonlocal last_flush
        if batch:
            audit.append_many("verdict", [_audit_verdict(x) for x in batch])
            recorder.add(batch)
            if out is not None:
                out.write("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in batch))
                out.flush()
            batch.clear()
        last_flush = time.monotonic()

    for line in scanner.run(items):
        summary.add(line)
        batch.append(line)
        if on_result is not None:
            on_result(line)
        if len(batch) >= FLUSH_LINES or time.monotonic() - last_flush >= FLUSH_SECONDS:
            flush()
    flush()
    summary.seconds = time.perf_counter() - t0
    summary.cache = dict(scanner.cache_stats)
    audit.append("scan-finished", {"files": summary.total, "verdicts": dict(summary.verdicts),
                                   "seconds": round(summary.seconds, 1), "cache": summary.cache,
                                   "skipped": dict(summary.skipped), "record": recorder.scan_id})
    recorder.finish({"files": summary.total, **dict(summary.verdicts)})
    summary.record_id = recorder.scan_id
    return summary


def check_file(workspace: Workspace, path: str | Path, options: ScanOptions) -> dict[str, Any]:
    """One file's decided result, computed in this process (a shard or manifest named
    here gives its first item's)."""
    lines = list(Scanner(workspace, replace(options, workers=0)).run(
        iter_items([path], allow_outside=options.allow_outside)))
    line = lines[0] if lines else {"path": str(path), "verdict": "error", "reason": "nothing to scan at this path",
                                   "matches": []}
    AuditLog.for_workspace(workspace).append("check", {**_audit_scan(options, [str(path)]),
                                                       "result": _audit_verdict(line)})
    return line
