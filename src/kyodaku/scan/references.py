"""Fingerprinting registered works' reference media (on import, with a progress bar,
using all cores) into the workspace's reference set."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from kyodaku.audit.registry import append, conflict_entry
from kyodaku.fingerprint.base import Fingerprint
from kyodaku.fingerprint.local import OrbMethod
from kyodaku.fingerprint.registry import all_methods, image_methods, video_methods
from kyodaku.fingerprint.store import RefEntry, is_keyframe, stored_meta
from kyodaku.media.images import load_image
from kyodaku.media.types import LoadedImage, MediaError
from kyodaku.scan.parallel import default_workers, ordered_map
from kyodaku.scan.refset import ReferenceSet, replan_outgrown
from kyodaku.video.keyframes import Keyframe, video_keyframes
from kyodaku.workspace import Workspace

#: reference images are decoded at this size (the methods downscale further)
REF_MAX_SIDE = 1024
#: seconds one reference file may take to fingerprint (a registered episode can be long)
REF_TIMEOUT = 1800.0
#: a reference image with no PDQ hash (featureless) and fewer local keypoints than this
#: can hardly be found in copies: the registrant is told
PLAIN_MAX_KEYPOINTS = OrbMethod.findable_from
#: a reference with too few keypoints is found by its PDQ hashes alone: they are tried
#: on its own JPEG copy (this quality, this scale).  A noise texture (a heat-shimmer or
#: displacement map) hashes with quality but its hash does not survive the copy.
SELF_COPY_QUALITY = 75
SELF_COPY_SCALE = 0.8
#: two reference pictures of different works at most this many PDQ bits (of 256) apart
#: are near-identical: copies of either match both.  Half PDQ's usual match threshold (31).
#: Measured on the evaluation sets' catalogs: distinct works sit 36 or more bits from any
#: other work, except one sprite's expression variants (0-4 bits), animation frames of one
#: creature (8-16), pixel-identical layers of two themes (0) and a portrait and its
#: zombie version by two holders (14)
LOOKALIKE_MAX_DISTANCE = 16
#: a registered video's frames are sampled this often (per second) for its keyframes:
#: twice the query side's rate, so that a still taken between two keyframes shows a
#: moving figure within an eighth of a second of one (at 2/s, a walking figure has moved
#: far enough against the background that the appearance check reads a variant)
EPISODE_KEYFRAME_FPS = 4.0
PLAIN_NOTE = (f"too plain to be found in copies (no PDQ hash that finds its own JPEG copy, under "
              f"{PLAIN_MAX_KEYPOINTS} keypoints); register a picture with more of the work in it")


@dataclass
class FingerprintSummary:
    done: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (work_id / file, reason)
    #: works with a reference image too plain to be matched
    plain: list[str] = field(default_factory=list)
    #: (work, earlier work, PDQ distance, whether their holders differ) for near-identical
    #: reference pictures of different works
    lookalikes: list[tuple[str, str, int, bool]] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"fingerprinted {self.done} reference file(s)"
        if self.failed:
            text += f"; {len(self.failed)} failed: " + "; ".join(f"{w}: {r}" for w, r in self.failed[:5])
        if self.plain:
            more = f" and {len(self.plain) - 5} more" if len(self.plain) > 5 else ""
            text += (f"; {len(self.plain)} too plain to be found in copies (no PDQ hash that finds its own "
                     f"JPEG copy, under {PLAIN_MAX_KEYPOINTS} keypoints; register a picture with more of the "
                     "work in it): "
                     + ", ".join(self.plain[:5]) + more)
        if self.lookalikes:
            pairs = [f"{w} ~ {o} ({d} bits{', another holder' if c else ''})" for w, o, d, c in self.lookalikes[:5]]
            more = f" and {len(self.lookalikes) - 5} more" if len(self.lookalikes) > 5 else ""
            conflicts = sum(c for *_, c in self.lookalikes)
            text += (f"; {len(self.lookalikes)} near-identical to a picture registered before under another work "
                     f"(copies will match both{f'; {conflicts} claimed by another holder' if conflicts else ''}; "
                     "`kyodaku works lookalikes` lists them): " + ", ".join(pairs) + more)
        return text


def too_plain(fps: dict[str, Fingerprint]) -> bool:
    """Whether an image reference's fingerprints leave nothing to find it by: no PDQ hash
    (every view featureless) or none that finds the picture's own JPEG copy
    (``info["found_in_own_copy"]``, :func:`check_own_copy`), and next to no local
    keypoints."""
    methods = all_methods()
    finders = [(fp, methods[name].findable_from) for name, fp in fps.items() if name in methods]
    finders = [(fp, least) for fp, least in finders if least is not None]
    return bool(finders) and all(len(fp) < least or fp.info.get("found_in_own_copy") is False
                                 for fp, least in finders)


def check_own_copy(image: LoadedImage, fps: dict[str, Fingerprint]) -> None:
    """A reference picture that one finding method cannot find by (no PDQ hash, or under
    :data:`PLAIN_MAX_KEYPOINTS` keypoints) rests on the others: each of those is tried on
    the picture's own JPEG copy (:data:`SELF_COPY_QUALITY`, :data:`SELF_COPY_SCALE`), and
    whether it finds it (a score of at least the packaged policy's review threshold) goes
    to its fingerprint's ``info["found_in_own_copy"]``.  A noise texture (a heat shimmer,
    a displacement map) has a PDQ hash or keypoints that do not survive a copy."""
    methods = all_methods()
    finders = {name: fp for name, fp in fps.items()
               if name in methods and methods[name].findable_from is not None}
    weak = [name for name, fp in finders.items() if len(fp) < (methods[name].findable_from or 0)]
    if not weak or len(weak) == len(finders):
        return  # every method finds it by something, or none can (too plain already)
    import io

    from PIL import Image

    from kyodaku.policy.decide import default_policy

    h, w = image.rgb.shape[:2]
    size = (max(1, round(w * SELF_COPY_SCALE)), max(1, round(h * SELF_COPY_SCALE)))
    buf = io.BytesIO()
    Image.fromarray(image.rgb).resize(size, Image.Resampling.LANCZOS).save(buf, "JPEG", quality=SELF_COPY_QUALITY)
    copy = load_image(buf.getvalue())
    least = default_policy().matching.review
    for name, fp in finders.items():
        if name in weak:
            continue
        query = methods[name].query(copy)
        found = len(query) > 0 and methods[name].compare(query, fp).score >= least
        fp.info = {**fp.info, "found_in_own_copy": bool(found)}


def fingerprint_file(path: str, kind: str) -> dict[str, list[Fingerprint]]:
    """Every registered method's reference fingerprints of one file (raises MediaError):
    one per image method for a picture; for a video, one per video method and, per image
    method, one for each of the video's keyframes (:func:`episode_keyframes`), so that a
    still frame of a registered episode is found as the episode.  A keyframe's
    fingerprint carries ``info["keyframe"]`` (``t``, ``segments``: the episode's seconds
    it stands for)."""
    if kind == "video":
        fps: dict[str, list[Fingerprint]] = {m.name: [m.reference_video(path)] for m in video_methods()}
        keyframes = episode_keyframes(path)
        for m in image_methods():
            fps[m.name] = []
            for kf in keyframes:
                fp = m.reference(kf.image(source=path))
                fp.info = {**fp.info, "keyframe": {"t": round(kf.t, 3),
                                                   "segments": [[round(a, 3), round(b, 3)] for a, b in kf.segments]}}
                fps[m.name].append(fp)
        for m in video_methods():
            fps[m.name][0].info["keyframes"] = len(keyframes)
        return fps
    image = load_image(path, max_side=REF_MAX_SIDE)
    found = {m.name: m.reference(image) for m in image_methods()}
    check_own_copy(image, found)
    return {name: [fp] for name, fp in found.items()}


def episode_keyframes(path: str) -> list[Keyframe]:
    """The keyframes of a registered video that are stored as pictures: one per stretch of
    near-identical frames (within the query side's
    :data:`~kyodaku.video.keyframes.KEYFRAME_DISTANCE` PDQ bits of the stretch's keyframe;
    :func:`kyodaku.video.keyframes.video_keyframes`), featureless frames dropped."""
    keyframes, _info = video_keyframes(path, fps=EPISODE_KEYFRAME_FPS)
    return keyframes


def _work(task: tuple[int, str, str, str]) -> tuple[dict[str, list[Fingerprint]] | None, str | None]:
    _media_id, _work_id, path, kind = task
    try:
        return fingerprint_file(path, kind), None
    except MediaError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - a reference that cannot be read is reported, not fatal
        return None, f"{type(exc).__name__}: {exc}"


def _crashed(_task: tuple[int, str, str, str], reason: str) -> tuple[None, str]:
    return None, reason


def refresh_stale(workspace: Workspace) -> list[str]:
    """Drop the stored fingerprints (and index) of every method whose version changed and
    queue all reference media again, so the next fingerprinting recomputes them.  An image
    method added since the references were fingerprinted gets the images the other image
    methods hold queued again (only its own fingerprints are then added).  Returns the
    methods that were stale or missing."""
    # each refs.json is read once (it lists every reference: large at scale)
    metas = {m.name: stored_meta(workspace.fingerprints_dir / m.name) for m in all_methods().values()}
    stale = []
    for method in all_methods().values():
        key = (metas[method.name] or {}).get("method")
        if key is not None and key != method.key:
            shutil.rmtree(workspace.fingerprints_dir / method.name)
            shutil.rmtree(workspace.index_dir / method.name, ignore_errors=True)
            stale.append(method.name)
    if stale:
        workspace.registry.requeue_media()
        return stale
    held = {m.name: {r["media_id"] for r in (metas[m.name] or {"refs": []})["refs"]} for m in image_methods()}
    every = set().union(*held.values())
    queue: set[int] = set()
    # videos fingerprinted before their keyframes were stored as pictures: queued once
    # more, so that a still frame of the episode is found (their video fingerprints stay)
    for m in video_methods():
        for r in (metas[m.name] or {"refs": []})["refs"]:
            if "keyframes" not in (r.get("info") or {}) and r["media_id"] not in every:
                queue.add(r["media_id"])
    missing = []
    for name, ids in held.items():
        if every - ids:
            missing.append(name)
            queue |= every - ids
    if queue:
        workspace.registry.requeue_media(sorted(queue))
    return sorted(missing)


def open_reference_set(workspace: Workspace) -> ReferenceSet:
    return ReferenceSet(workspace.fingerprints_dir, workspace.index_dir)


def fingerprint_pending(workspace: Workspace, *, progress: bool = True, workers: int | None = None,
                        batch: int = 256) -> FingerprintSummary:
    """Fingerprint every media row not fingerprinted yet; index the results.

    Idempotent and restartable: a reference already in the store (by media id) is not
    added twice, and a row is marked done only after its fingerprints are saved.
    """
    refresh_stale(workspace)
    replan_outgrown(workspace.fingerprints_dir, workspace.index_dir)
    registry = workspace.registry
    pending = registry.pending_media()
    summary = FingerprintSummary()
    if not pending:
        return summary
    refs = open_reference_set(workspace)
    stored = {name: {r["media_id"] for r in store.refs} for name, store in refs.stores.items()}
    tasks = [(m.id, m.work_id, str(workspace.media_path(m)), m.kind) for m in pending]
    workers = default_workers() if workers is None else workers
    columns = (TextColumn("fingerprinting references"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not progress, transient=False) as bar:
        job = bar.add_task("fingerprint", total=len(tasks))
        buffer: list[tuple[tuple[int, str, str, str], dict[str, list[Fingerprint]]]] = []
        results = ordered_map(_work, tasks, workers=workers if len(tasks) > 1 else 0, on_crash=_crashed,
                              item_timeout=REF_TIMEOUT)
        for task, (fps, error) in results:
            if error is not None:
                registry.mark_fingerprinted(task[0], error=error)
                summary.failed.append((f"{task[1]} ({Path(task[2]).name})", error))
            else:
                buffer.append((task, fps))
            if len(buffer) >= batch:
                _flush(refs, registry, buffer, stored, summary)
            bar.advance(job)
        _flush(refs, registry, buffer, stored, summary)
    _audit_conflicts(workspace, summary.lookalikes)
    return summary


def _audit_conflicts(workspace: Workspace, pairs: list[tuple[str, str, int, bool]]) -> None:
    """Pictures two holders both registered go into the audit log (kind ``conflict``):
    ``pairs`` as in :attr:`FingerprintSummary.lookalikes`."""
    conflicts = [(w, o, d) for w, o, d, c in pairs if c]
    if not conflicts:
        return
    holders = workspace.registry.holders_of({w for w, _o, _d in conflicts} | {o for _w, o, _d in conflicts})
    append(workspace, "conflict", [conflict_entry(w, o, (holders.get(w), holders.get(o)), d) for w, o, d in conflicts])


def _flush(refs: ReferenceSet, registry, buffer, stored, summary: FingerprintSummary) -> None:
    if not buffer:
        return
    by_method: dict[str, list[RefEntry]] = {}
    for (media_id, work_id, _path, _kind), fps in buffer:
        for name, fp_list in fps.items():
            if media_id not in stored[name]:
                by_method.setdefault(name, []).extend(RefEntry(media_id, work_id, fp) for fp in fp_list)
                stored[name].add(media_id)
    for name, entries in by_method.items():
        refs.add(name, entries)
    new_pdq = len(by_method.get("pdq", []))
    found = lookalikes(refs, range(len(refs.stores["pdq"]) - new_pdq, len(refs.stores["pdq"]))) if new_pdq else {}
    involved = {task[1] for task, _fps in buffer if task[0] in found}
    involved |= {other_work for hits in found.values() for other_work, _d in hits.values()}
    holders = registry.holders_of(involved) if found else {}
    methods = all_methods()
    for (media_id, work_id, _path, kind), fps in buffer:
        plain = too_plain({name: fp_list[0] for name, fp_list in fps.items()
                           if fp_list and (kind == "image" or methods[name].media == "video")})
        registry.mark_fingerprinted(media_id, note=PLAIN_NOTE if plain else None)
        summary.done += 1
        if plain and work_id not in summary.plain:
            summary.plain.append(work_id)
        if media_id in found:
            registry.record_lookalikes(media_id, [(o, d) for o, (_w, d) in found[media_id].items()])
            for other_work, distance in found[media_id].values():
                summary.lookalikes.append((work_id, other_work, distance,
                                           holders.get(work_id) != holders.get(other_work)))
    buffer.clear()


def refresh_lookalikes(workspace: Workspace) -> int:
    """Look every fingerprinted image reference up again for near-identical pictures of
    other works and record what is found (for a workspace fingerprinted before kyodaku
    recorded them, or after the threshold changed).  Returns the number of pairs."""
    refs = open_reference_set(workspace)
    store = refs.stores.get("pdq")
    found = lookalikes(refs, range(len(store))) if store is not None else {}
    registry = workspace.registry
    known = {(p.media_id, p.other_media_id) for p in registry.list_lookalikes()}
    for media_id in sorted({m for m, _o in known} | set(found)):
        registry.record_lookalikes(media_id, [(o, d) for o, (_w, d) in found.get(media_id, {}).items()])
    # pairs not recorded before go into the audit log like those found on fingerprinting
    _audit_conflicts(workspace, [(p.work_id, p.other_work_id, p.distance, p.conflict)
                                 for p in registry.list_lookalikes() if (p.media_id, p.other_media_id) not in known])
    return sum(len(f) for f in found.values())


def lookalikes(refs: ReferenceSet, rows: range, max_distance: int = LOOKALIKE_MAX_DISTANCE,
               chunk: int = 4096) -> dict[int, dict[int, tuple[str, int]]]:
    """For each image reference in PDQ store ``rows``, the media registered
    before it (a smaller media id) under another work whose picture is near-identical:
    ``{media_id: {other_media_id: (other_work_id, PDQ distance)}}``.  The picture's upright
    hashes (whole, and cut to its content) are looked up among every stored hash (the
    dihedral ones too, though PDQ's hash of a mirrored picture can sit ~24 bits from the
    mirror hash of the original: a mirrored registration is not reliably found)."""
    store, index = refs.stores.get("pdq"), refs.indexes.get("pdq")
    if store is None or index is None or not len(rows):
        return {}
    a, b = int(store.offsets[rows.start]), int(store.offsets[rows.stop])
    upright = np.flatnonzero(np.isin(np.asarray(store.points[a:b, 0]), (0, 8))) + a
    # a registered video's keyframes are not pictures registered on their own: an
    # episode painted from a registered scene shows it, and two episodes share shots
    # (read per row met, not over the whole store: this runs on every batch fingerprinted)
    upright = upright[[not is_keyframe(store.refs[int(o)]) for o in store.owner[upright]]]
    out: dict[int, dict[int, tuple[str, int]]] = {}
    for start in range(0, len(upright), chunk):
        part = upright[start:start + chunk]
        result = index.query(np.ascontiguousarray(store.vectors[part]), 32, max_distance=max_distance)
        for row, labels, dists in zip(part, result.labels, result.distances):
            ref = int(store.owner[row])
            media_id, work_id = store.refs[ref]["media_id"], store.refs[ref]["work_id"]
            for label, dist in zip(labels, dists):
                if label < 0 or dist > max_distance:
                    continue
                other = int(store.owner[label])
                if is_keyframe(store.refs[other]):
                    continue
                other_media, other_work = store.refs[other]["media_id"], store.refs[other]["work_id"]
                if other_work == work_id or other_media >= media_id:
                    continue
                seen = out.setdefault(media_id, {}).get(other_media)
                if seen is None or dist < seen[1]:
                    out[media_id][other_media] = (other_work, int(dist))
    return out
