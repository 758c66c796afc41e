"""The guard's audit drainer: appending a screening's audit entry to the signed file log
off the request path, for many screenings at once.

Every screening commits its decision and its audit entry (an outbox row,
:mod:`kyodaku.audit.outbox`) in one transaction *before* it answers: the entry is durable
from then on, whatever happens to the process.  What this moves off the request path is
the outbox drain, which appends committed rows to the signed, hash-chained
``audit.jsonl`` (a file lock, three small database transactions and two fsyncs, log and
head): measured, two thirds of a prompt screening's time.  A screening *kicks* the
drainer; its thread waits :data:`GROUP_SECONDS` (0.1 s) for more, then drains everything
pending in one :func:`~kyodaku.audit.outbox.drain` (the outbox's own batching: one lock
and one fsync pair per batch of up to 500 entries): group commit of the file log, with the
outbox's exactly-once guarantees unchanged.

The entry reaches the file log about 0.1 s after the answer instead of before it.  If
the process dies in between, the row stays pending and the next drain appends it (any
desk or CLI command opening the workspace, ``kyodaku serve`` starting); ``kyodaku audit
verify`` reports pending rows until then.  :meth:`Drainer.flush` drains and waits (tests,
shutdown); the thread also drains at interpreter exit.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

from kyodaku.audit.outbox import drain_quietly

__all__ = ["Drainer"]

log = logging.getLogger("kyodaku.guard")

#: the drain thread ends after this long without a screening (the next one starts it again)
IDLE_SECONDS = 30.0
#: after a kick the drainer waits this long for more screenings before it drains them all:
#: the most an entry waits for the file log (plus the drain itself)
GROUP_SECONDS = 0.1


class Drainer:
    """Drains ``sessions``' audit outbox into ``audit_log`` in a background thread, once per
    burst of :meth:`kick` calls."""

    def __init__(self, sessions: Callable[[], Any], audit_log: Callable[[], Any],
                 group_seconds: float = GROUP_SECONDS) -> None:
        self._sessions = sessions
        self.group_seconds = group_seconds
        self._urgent = False
        self._audit_log = audit_log
        self._wake = threading.Condition()
        self._due = 0  # kicks not yet covered by a finished drain
        self._done = 0  # kicks covered by finished drains
        self._thread: threading.Thread | None = None
        self._closed = False
        atexit.register(_flush_at_exit, weakref.ref(self))

    def kick(self) -> None:
        """A screening committed an audit entry: drain soon (does not wait)."""
        with self._wake:
            self._due += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kyodaku-guard-drain", daemon=True)
                self._thread.start()
            self._wake.notify_all()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every kick so far is covered by a finished drain (True), or
        ``timeout`` seconds pass (False).  Without a running thread, drain here."""
        with self._wake:
            target = self._due
            if self._thread is None or not self._thread.is_alive():
                if self._done < target:
                    drain_quietly(self._sessions, self._audit_log)
                    self._done = target
                return True
            self._urgent = True
            self._wake.notify_all()
            return self._wake.wait_for(lambda: self._done >= target, timeout)

    def close(self) -> None:
        self.flush()
        with self._wake:
            self._closed = True
            self._wake.notify_all()

    def _run(self) -> None:
        while True:
            with self._wake:
                busy = self._wake.wait_for(lambda: self._due > self._done or self._closed, IDLE_SECONDS)
                if not busy or (self._closed and self._due <= self._done):
                    self._thread = None  # idle: the next kick starts another
                    return
                # group: screenings arriving in the next moments share this drain
                self._wake.wait_for(lambda: self._urgent or self._closed, self.group_seconds)
                self._urgent = False
                covered = self._due
            try:
                drain_quietly(self._sessions, self._audit_log)
            except Exception:  # noqa: BLE001 - drain_quietly logs append failures; anything else too
                log.exception("audit drain failed; the entries stay pending for the next drain")
            with self._wake:
                self._done = max(self._done, covered)
                self._wake.notify_all()


def _flush_at_exit(ref: weakref.ref[Drainer]) -> None:
    drainer = ref()
    if drainer is not None:
        try:
            drainer.flush(timeout=10.0)
        except Exception:  # noqa: BLE001 - pending rows are appended by the next drain anyway
            pass
