"""The rights holders' desk as a library: every page, API route and CLI command calls
:class:`DeskService`.  Every read and write takes an :class:`~kyodaku.desk.auth.Actor`
and is filtered by it here, in the data layer: a holder account sees only the holders
it acts for (anything else is "not found"), auditors only read, operators answer.

Every claim step is timestamped with the injected clock, gets its deadline from the
:class:`~kyodaku.desk.lifecycle.DeadlinePolicy`, emits an outbox event (webhooks,
email) in the same transaction, and writes its audit entry in that transaction too
(:mod:`kyodaku.audit.outbox`), appended to the workspace's signed audit log right after
the commit.  So is every other change: accounts, API keys created and revoked, webhooks
registered, inquiries, and (through the registry) works, aliases and permits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import urllib.parse
from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kyodaku.audit import AuditLog
from kyodaku.audit.outbox import drain_quietly, record
from kyodaku.desk import auth, inquiries
from kyodaku.desk.auth import Actor, Forbidden
from kyodaku.desk.claims import (
    MAX_UPLOAD_DEFAULT,
    Claim,
    claim_view,
    claims_query,
    evidence_from_line,
    keep_upload,
    transition,
    visible_claim,
)
from kyodaku.desk.lifecycle import DeadlinePolicy
from kyodaku.desk.models import AccountRow, ApiKeyRow, ClaimEventRow, ClaimRow, WebhookRow
from kyodaku.desk.outbox import SmtpSettings, check_webhook_target, deliver_pending, emit
from kyodaku.records.holder_view import holder_verdict
from kyodaku.records.store import Records
from kyodaku.registry.base import Conflict, NotFound, RegistryError, utcnow
from kyodaku.registry.models import HolderRow, WorkRow
from kyodaku.workspace import Workspace

__all__ = ["DeskService"]

#: uploads kept per holder while claim forms come back (oldest removed first)
PENDING_KEPT = 5
_PENDING_TOKEN = re.compile(r"^[0-9a-f]{64}(\.[a-z0-9]{1,8})?$")


def webhook_target(url: str) -> str:
    """A webhook URL as the audit log keeps it: without credentials, query or fragment
    (where receivers put tokens)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return urllib.parse.urlunsplit((parts.scheme, host + port, parts.path, "", ""))


class DeskService:
    def __init__(self, workspace: Workspace, *, licensee: str | None = None,
                 deadlines: DeadlinePolicy | None = None, clock: Callable[[], datetime] = utcnow,
                 smtp: SmtpSettings | None = None, allow_private_webhooks: bool = False) -> None:
        self.workspace = workspace
        #: the AI developer answering at this desk (claims' evidence is checked for it)
        self.licensee = licensee or "unnamed-licensee"
        self.deadlines = deadlines or DeadlinePolicy.load()
        self.clock = clock
        #: email notifications go out only when SMTP is configured; webhooks always
        self.smtp = smtp
        self.email = smtp is not None
        #: holders' webhooks may target loopback / private networks (tests, closed setups)
        self.allow_private_webhooks = allow_private_webhooks
        self.records = Records(workspace.session)
        self.uploads_dir = workspace.home / "desk" / "uploads"
        self._drain()  # entries a crash left committed but not yet in the log (the desk starting)

    @cached_property
    def audit_log(self) -> AuditLog:
        """The workspace's audit log, its signing key read once (appends lock the file, so
        one instance serves every request thread)."""
        return AuditLog.for_workspace(self.workspace)

    def _drain(self) -> None:
        """Append the audit entries committed with the changes just made (and any a crash
        left pending) to the file log; a failure leaves them pending, reported by verify."""
        drain_quietly(self.workspace.session, lambda: self.audit_log)

    # -- accounts ---------------------------------------------------------------------------
    def add_account(self, username: str, role: str, *, password: str | None = None,
                    holders: Iterable[str] = (), display_name: str | None = None, email: str | None = None,
                    lang: str = "en") -> Actor:
        with self.workspace.session() as s:
            row = auth.create_account(s, username, role, password=password, holders=tuple(holders),
                                      display_name=display_name, email=email, lang=lang)
            actor = auth.actor_of(row)
            record(s, "account", {"username": username, "role": role, "holders": list(actor.holder_slugs)},
                   self.clock())
        self._drain()
        return actor

    def login(self, username: str, password: str, client: str = "unknown") -> tuple[Actor, str, str] | None:
        """Check the password; returns (actor, session token, CSRF token) or None.  ``client``
        is the address the sign-in came from (locks are per account and client)."""
        with self.workspace.session() as s:
            row = auth.authenticate(s, username, password, self.clock(), client)
            if row is None:
                return None
            token, csrf = auth.new_session(s, row, self.clock())
            return auth.actor_of(row), token, csrf

    def session_actor(self, token: str) -> tuple[Actor, str] | None:
        with self.workspace.session() as s:
            found = auth.session_account(s, token, self.clock())
            return (auth.actor_of(found[0]), found[1]) if found else None

    def logout(self, token: str) -> None:
        with self.workspace.session() as s:
            auth.end_session(s, token)

    def api_key_actor(self, key: str) -> Actor | None:
        with self.workspace.session() as s:
            row = auth.api_key_account(s, key)
            return auth.actor_of(row) if row is not None else None

    def add_api_key(self, actor: Actor, label: str = "") -> tuple[int, str]:
        """A new key for the actor's own account; the key is shown once."""
        with self.workspace.session() as s:
            account = s.get(AccountRow, actor.account_id)
            assert account is not None
            row, key = auth.new_api_key(s, account, label, self.clock())
            key_id = row.id
            record(s, "api_key", {"api_key": row.id, "event": "created", "account": account.username,
                                  "prefix": row.prefix, "label": row.label, "by": actor.username}, self.clock())
        self._drain()
        return key_id, key

    def api_keys(self, actor: Actor) -> list[dict[str, Any]]:
        with self.workspace.session() as s:
            rows = s.scalars(select(ApiKeyRow).where(ApiKeyRow.account_id == actor.account_id)
                             .order_by(ApiKeyRow.id))
            return [{"id": r.id, "prefix": r.prefix, "label": r.label, "created_at": r.created_at.isoformat(),
                     "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None} for r in rows]

    def revoke_api_key(self, actor: Actor, key_id: int) -> None:
        with self.workspace.session() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None or row.account_id != actor.account_id:
                raise NotFound(f"no API key {key_id}")
            if row.revoked_at is not None:
                return  # revoked before: nothing changes, nothing to log
            row.revoked_at = self.clock()
            record(s, "api_key", {"api_key": row.id, "event": "revoked", "account": actor.username,
                                  "prefix": row.prefix, "by": actor.username}, self.clock())
        self._drain()

    # -- helpers ----------------------------------------------------------------------------
    def _holder_for(self, s: Any, actor: Actor, holder: str | None) -> HolderRow:
        """The row of the holder a holder account acts for (:meth:`Actor.own_holder`)."""
        holder = actor.own_holder(holder)
        row = s.scalar(select(HolderRow).where(HolderRow.slug == holder))
        if row is None or row.id not in actor.holder_ids:
            raise NotFound(f"no holder {holder!r}")
        return row

    def _check_works(self, s: Any, holder: HolderRow, work_ids: Iterable[str]) -> tuple[str, ...]:
        ids = tuple(dict.fromkeys(w.strip() for w in work_ids if w and w.strip()))
        if not ids:
            raise RegistryError("name at least one of your works")
        found = set(s.scalars(select(WorkRow.work_id).where(WorkRow.work_id.in_(ids),
                                                            WorkRow.holder_id == holder.id)))
        missing = [w for w in ids if w not in found]
        if missing:
            raise NotFound(f"not works of {holder.slug}: {', '.join(missing)}")
        return ids

    def _usernames(self, s: Any, rows: Iterable[ClaimRow]) -> dict[int, str]:
        ids = {e.actor_id for r in rows for e in r.events}
        return dict(s.execute(select(AccountRow.id, AccountRow.username).where(AccountRow.id.in_(ids))).all()) \
            if ids else {}

    def _view(self, s: Any, row: ClaimRow) -> Claim:
        return claim_view(row, self._usernames(s, [row]), self.deadlines.owner(row.state))

    # -- claims -----------------------------------------------------------------------------
    def file_claim(self, actor: Actor, *, work_ids: Iterable[str], description: str = "",
                   holder: str | None = None, upload: Path | None = None, upload_name: str | None = None,
                   decision_id: int | None = None, idempotency_key: str | None = None) -> Claim:
        """File a claim about an output (an uploaded file, or a recorded decision), with
        evidence attached.  The same ``idempotency_key`` twice returns the first claim."""
        if (upload is None) == (decision_id is None):
            raise RegistryError("a claim is about an uploaded file or a recorded decision id (one of them)")
        now = self.clock()
        if idempotency_key:
            with self.workspace.session() as s:
                existing = s.scalar(select(ClaimRow).where(ClaimRow.idempotency_key == idempotency_key))
                if existing is not None:
                    if not actor.can_see_holder(existing.holder_id) or existing.filed_by != actor.account_id:
                        raise Conflict("this idempotency key was used for another claim")
                    return self._view(s, existing)
        with self.workspace.session() as s:
            holder_row = self._holder_for(s, actor, holder)
            works = self._check_works(s, holder_row, work_ids)
            slug = holder_row.slug
        fields: dict[str, Any] = {}
        if upload is not None:
            from kyodaku.scan.pipeline import ScanOptions, check_file

            stored, sha = keep_upload(self, holder_row.id, slug, Path(upload),
                                      upload_name or Path(upload).name)
            line = check_file(self.workspace, stored, ScanOptions(self.licensee, "generation", now.date(), workers=0))
            line["path"] = upload_name or Path(upload).name
            fields = {"subject_kind": "upload", "upload_path": str(Path(stored).relative_to(self.workspace.home)),
                      "upload_name": (upload_name or Path(upload).name)[:1000], "upload_sha256": sha,
                      "evidence": evidence_from_line(line, slug, works, "check of the uploaded file", now)}
        else:
            decision = self.records.decision(int(decision_id))  # type: ignore[arg-type]
            if slug not in decision.holders:
                raise NotFound(f"no decision {decision_id} about works of {slug}")
            fields = {"subject_kind": "decision", "decision_id": decision.id,
                      "evidence": evidence_from_line(decision.line, slug, works,
                                                     f"{decision.source} decision {decision.id}", now)}
        try:
            with self.workspace.session() as s:
                row = ClaimRow(holder_id=holder_row.id, filed_by=actor.account_id, idempotency_key=idempotency_key,
                               work_ids=list(works), description=description.strip(), state="filed",
                               created_at=now, state_changed_at=now,
                               due_at=self.deadlines.claim_due("filed", filed_at=now, entered_at=now), **fields)
                row.events.append(ClaimEventRow(at=now, actor_id=actor.account_id, from_state=None,
                                                to_state="filed", note=description.strip(), due_at=row.due_at))
                s.add(row)
                s.flush()
                emit(s, "claim.filed", holder_row.id, {"claim": row.id, "holder": slug, "state": "filed",
                                                       "due_at": row.due_at.isoformat() if row.due_at else None},
                     now, self.email)
                claim_id = row.id
                record(s, "claim", {"claim": claim_id, "holder": slug, "action": "file", "to": "filed",
                                    "by": actor.username, "works": list(works),
                                    "verdict": fields["evidence"].get("verdict")}, now)
        except IntegrityError:
            if idempotency_key:  # a concurrent retry won the race
                return self.file_claim(actor, work_ids=works, description=description, holder=slug,
                                       upload=upload, upload_name=upload_name, decision_id=decision_id,
                                       idempotency_key=idempotency_key)
            raise
        self._drain()
        return self.claim(actor, claim_id)

    # -- a claim form being completed (pages) ------------------------------------------------
    def hold_claim_upload(self, actor: Actor, upload: Path, upload_name: str, holder: str | None = None) -> str:
        """Keep an upload while its claim form comes back to the holder (a field to fix, a
        warning to confirm), so it need not be sent again.  Checked as a claim's upload is
        (size, decodable media); kept in the holder's own pending folder, the newest
        :data:`PENDING_KEPT` only (older ones are removed).  Returns its token (a file
        name, good only for this holder's accounts)."""
        from kyodaku.desk import storage

        with self.workspace.session() as s:
            holder_id = self._holder_for(s, actor, holder).id
        storage.check_size(upload, upload_name, int(getattr(self, "max_upload_bytes", MAX_UPLOAD_DEFAULT)))
        storage.check_media(upload, upload_name)
        ext = storage.extension_for(upload) or Path(upload_name).suffix
        folder = self.uploads_dir / "pending" / str(holder_id)
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        with upload.open("rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        clean = "".join(c for c in ext.lower()[:8] if c.isalnum() or c == ".")
        dest = folder / f"{digest.hexdigest()}{clean}"
        tmp = dest.with_name(dest.name + ".part")
        shutil.copyfile(upload, tmp)
        tmp.replace(dest)
        kept = sorted((p for p in folder.iterdir() if p.is_file()), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in kept[PENDING_KEPT:]:
            old.unlink(missing_ok=True)
        return dest.name

    def pending_upload(self, actor: Actor, token: str, holder: str | None = None) -> Path:
        """The upload kept under ``token`` for this holder (NotFound when it is gone)."""
        with self.workspace.session() as s:
            holder_id = self._holder_for(s, actor, holder).id
        path = self.uploads_dir / "pending" / str(holder_id) / token
        if not _PENDING_TOKEN.match(token or "") or not path.is_file():
            raise NotFound("the kept upload is gone: attach the file again")
        return path

    def drop_pending_upload(self, actor: Actor, token: str, holder: str | None = None) -> None:
        try:
            self.pending_upload(actor, token, holder).unlink(missing_ok=True)
        except NotFound:
            pass

    def subject_matches(self, actor: Actor, *, upload: Path | None = None, decision_id: int | None = None,
                        holder: str | None = None) -> list[dict[str, Any]]:
        """The holder's works a claim's subject matched, strongest first, one entry per
        work (``work_id``, ``score``, ``verdict``): an upload is checked as a claim's is,
        a decision read from its record (NotFound if it matched none of the holder's works)."""
        with self.workspace.session() as s:
            slug = self._holder_for(s, actor, holder).slug
        if upload is not None:
            from kyodaku.scan.pipeline import ScanOptions, check_file

            line = check_file(self.workspace, str(upload),
                              ScanOptions(self.licensee, "generation", self.clock().date(), workers=0))
        else:
            decision = self.records.decision(int(decision_id))  # type: ignore[arg-type]
            if slug not in decision.holders:
                raise NotFound(f"no decision {decision_id} about works of {slug}")
            line = decision.line
        view = holder_verdict(line.get("verdict"), line.get("matches", []), {slug},
                              captions=line.get("captions", []) or [])
        best: dict[str, dict[str, Any]] = {}
        for m in view["matches"]:
            wid = m.get("work_id")
            if wid and (wid not in best or float(m.get("score", 0)) > best[wid]["score"]):
                best[wid] = {"work_id": wid, "score": float(m.get("score", 0)), "verdict": m.get("verdict")}
        return sorted(best.values(), key=lambda m: -m["score"])

    def act_many(self, actor: Actor, claim_ids: Iterable[int], action: str,
                 note: str = "") -> list[tuple[int, Claim | None, str | None]]:
        """One lifecycle step on several claims (an operator's bulk action): each claim
        moved, audited and notified exactly as :meth:`act` does one, in its own
        transaction; a claim that cannot take the step is reported, the others still
        move.  Returns (claim id, the claim after, None) or (claim id, None, why not)."""
        actor.require("operator")
        out: list[tuple[int, Claim | None, str | None]] = []
        for claim_id in dict.fromkeys(claim_ids):
            try:
                out.append((claim_id, self.act(actor, claim_id, action, note), None))
            except Forbidden:
                raise
            except RegistryError as exc:
                out.append((claim_id, None, str(exc)))
        return out

    def claim(self, actor: Actor, claim_id: int) -> Claim:
        with self.workspace.session() as s:
            return self._view(s, visible_claim(s, actor, claim_id))

    def claims(self, actor: Actor, *, state: str | None = None, overdue: bool = False) -> list[Claim]:
        now = self.clock()
        with self.workspace.session() as s:
            rows = list(s.scalars(claims_query(actor, state)))
            names = self._usernames(s, rows)
            views = [claim_view(r, names, self.deadlines.owner(r.state)) for r in rows]
        return [c for c in views if c.overdue(now)] if overdue else views

    def act(self, actor: Actor, claim_id: int, action: str, note: str = "") -> Claim:
        """Take one lifecycle step (acknowledge, start_review, uphold, reject, dispute, ...)."""
        now = self.clock()
        with self.workspace.session() as s:
            row = visible_claim(s, actor, claim_id)
            if actor.role == "auditor":
                raise Forbidden("auditor accounts are read-only")
            before = row.state
            event = transition(s, actor, row, action, note, now, self.deadlines, self.records)
            emit(s, f"claim.{row.state}", row.holder_id,
                 {"claim": row.id, "holder": row.holder.slug, "state": row.state, "from": before,
                  "note": event.note, "due_at": row.due_at.isoformat() if row.due_at else None}, now, self.email)
            record(s, "claim", {"claim": row.id, "holder": row.holder.slug, "action": action, "from": before,
                                "to": row.state, "by": actor.username, "note": event.note, "late": event.late,
                                "blocking_decision": row.evidence.get("blocking_decision_id")}, now)
        self._drain()
        return self.claim(actor, claim_id)

    # -- webhooks ---------------------------------------------------------------------------
    def add_webhook(self, actor: Actor, url: str, holder: str | None = None) -> tuple[int, str]:
        """Register a webhook (a holder's for its events, an operator's for all); returns
        (id, signing secret)."""
        if not url.startswith(("http://", "https://")):
            raise RegistryError("a webhook URL starts with http:// or https://")
        with self.workspace.session() as s:
            holder_id, holder_slug = None, None
            if actor.role == "holder":
                holder_row = self._holder_for(s, actor, holder)
                holder_id, holder_slug = holder_row.id, holder_row.slug
                check_webhook_target(url, allow_private=self.allow_private_webhooks)
            else:
                actor.require("operator")
                # an operator's webhook may be local, but is spelt as delivery will read it
                check_webhook_target(url, allow_private=True)
            secret = secrets.token_urlsafe(32)
            row = WebhookRow(holder_id=holder_id, url=url, secret=secret, created_at=self.clock())
            s.add(row)
            s.flush()
            hook_id = row.id
            record(s, "webhook", {"webhook": hook_id, "event": "registered", "holder": holder_slug,
                                  "target": webhook_target(url), "by": actor.username}, self.clock())
        self._drain()
        return hook_id, secret

    # -- inquiries ----------------------------------------------------------------------------
    def file_inquiry(self, actor: Actor, *, corpus: str, work_ids: Iterable[str] = (), question: str = "",
                     holder: str | None = None) -> Any:
        return inquiries.file_inquiry(self, actor, corpus=corpus, work_ids=tuple(work_ids), question=question,
                                      holder=holder)

    def inquiry(self, actor: Actor, inquiry_id: int) -> Any:
        return inquiries.get_inquiry(self, actor, inquiry_id)

    def inquiries(self, actor: Actor) -> list[Any]:
        return inquiries.list_inquiries(self, actor)

    def deliver(self, limit: int = 100) -> dict[str, int]:
        """Deliver due notifications now (the service's loop and ``kyodaku desk deliver``)."""
        return deliver_pending(self.workspace.session, self.clock(), smtp=self.smtp, limit=limit,
                               allow_private=self.allow_private_webhooks)

    def today(self) -> date:
        return self.clock().astimezone(self.deadlines.tz).date()
