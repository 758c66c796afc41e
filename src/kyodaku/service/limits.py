"""Request limits of the desk, as ASGI middleware in front of every route: a body size
cap counted while the body streams in, and a request rate limit (token buckets).

- :class:`BodyLimit`: a request whose ``Content-Length`` is over the cap is answered 413
  at once, unread; one without (chunked) or lying about it is counted chunk by chunk as
  the app reads it, and refused as soon as it passes the cap, so it never lands whole in
  memory or in a temporary file.  Multipart bodies (uploads) get ``max_upload`` (plus a
  little for the form fields), everything else ``max_body``.
- :class:`RateLimit`: one bucket per API key (``Authorization: Bearer``), per signed-in
  session (the session cookie) and, for requests with neither, per client address;
  ``POST /login`` also has a per-address bucket of its own (an IPv6 client counts by
  its /64).  A credential the app answers
  401 to (a guessed key) is charged to the client address as well, so guessing keys does
  not buy fresh buckets.  Over the limit: 429 with ``Retry-After`` (seconds).  The
  buckets live in this process: each server process (``--workers N``) counts on its own.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["BodyLimit", "RateLimit", "TokenBuckets"]

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]

#: room for the form fields beside the files of a multipart upload
MULTIPART_FIELDS_ALLOWANCE = 1 << 20


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers") or ():
        if k.lower() == name:
            return v.decode("latin-1")
    return None


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.0f} MiB" if n >= 1 << 20 else f"{n / 1024:.0f} KiB"


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, message: str,
                  headers: dict[str, str] | None = None, said: Callable[[Any], str] | None = None) -> None:
    """A JSON answer for the API (``message``), the desk's error page for everything
    else (``said(t)`` in the page's language, where given)."""
    from starlette.responses import JSONResponse

    path = str(scope.get("path", ""))
    response: Any = None
    if not path.startswith("/api/") and scope.get("app") is not None:
        try:
            from starlette.requests import Request

            from kyodaku.service.pages import error_page

            response = error_page(Request(scope, receive), status, message, said=said)
        except Exception:  # noqa: BLE001 - a page that cannot render falls back to JSON
            response = None
    if response is None:
        response = JSONResponse({"detail": message}, status_code=status)
    for k, v in (headers or {}).items():
        response.headers[k] = v
    await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies over ``max_body`` bytes (``max_upload`` for multipart) with 413."""

    def __init__(self, app: Any, *, max_body: int, max_upload: int) -> None:
        self.app, self.max_body, self.max_upload = app, int(max_body), int(max_upload)

    def limit_for(self, scope: Scope) -> tuple[int, str]:
        ctype = (_header(scope, b"content-type") or "").lower()
        if ctype.startswith("multipart/form-data"):
            return self.max_upload + MULTIPART_FIELDS_ALLOWANCE, f"an upload is at most {_mib(self.max_upload)}"
        return self.max_body, f"a request body is at most {_mib(self.max_body)}"

    def _too_large(self, scope: Scope, sent: int | None = None) -> Callable[[Any], str]:
        """The 413 in the page's language: message keys ``too_large_upload`` /
        ``too_large_body`` (``_sent`` with the size sent)."""
        upload = (_header(scope, b"content-type") or "").lower().startswith("multipart/form-data")
        key = ("too_large_upload" if upload else "too_large_body") + ("_sent" if sent is not None else "")
        limit = _mib(self.max_upload if upload else self.max_body)
        return lambda t: t(key, limit=limit, sent=_mib(sent) if sent is not None else "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        limit, what = self.limit_for(scope)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await _refuse(scope, receive, send, 400, "invalid Content-Length header")
                return
            if int(declared) > limit:
                await _refuse(scope, receive, send, 413,
                              f"request too large: {_mib(int(declared))} sent, {what}",
                              said=self._too_large(scope, int(declared)))
                return
        state = {"received": 0, "exceeded": False, "started": False, "replaced": False}

        async def counted() -> Any:
            message = await receive()
            if message.get("type") == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["exceeded"] = True
                    raise _TooLarge
            return message

        async def guarded(message: dict[str, Any]) -> None:
            if state["exceeded"] and not state["started"]:
                # the app turned the aborted read into its own answer (FastAPI: a 400):
                # the client gets the 413 instead
                if not state["replaced"]:
                    state["replaced"] = True
                    await _refuse(scope, receive, send, 413, f"request too large: {what}",
                                  said=self._too_large(scope))
                return
            if message.get("type") == "http.response.start":
                state["started"] = True
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if state["exceeded"] and not state["started"]:
                if not state["replaced"]:
                    await _refuse(scope, receive, send, 413, f"request too large: {what}",
                                  said=self._too_large(scope))
                return
            raise


class TokenBuckets:
    """Token buckets by key: ``rate`` tokens a second, at most ``burst``; bounded in
    memory (the least recently used keys are forgotten first: an idle bucket is full
    anyway).  Thread-safe."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 50_000) -> None:
        self.rate, self.burst, self.clock, self.max_keys = float(rate), float(burst), clock, max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate)

    def take(self, key: str, *, check_only: bool = False) -> float:
        """Take a token; 0.0 if there was one, else the seconds until there will be one
        (nothing taken).  ``check_only``: only say whether a token is there."""
        with self._lock:
            now = self.clock()
            tokens = self._level(key, now)
            if tokens < 1.0:
                wait = (1.0 - tokens) / self.rate if self.rate > 0 else 3600.0
                self._store(key, tokens, now)
                return max(wait, 0.001)
            self._store(key, tokens if check_only else tokens - 1.0, now)
            return 0.0

    def _store(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def client_key(host: str) -> str:
    """The address a client is counted under: an IPv6 client by its /64 (one network hands
    out as many addresses in it as it likes), an IPv4-mapped one as its IPv4 address."""
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        k, _, v = part.strip().partition("=")
        if k == name and v:
            return v
    return None


class RateLimit:
    """429 with ``Retry-After`` past ``per_minute`` requests (``burst`` at once) per API
    key, session or (without either) client address; ``POST /login`` per address at
    ``login_per_minute`` (burst 10).  A rate of 0 turns that limit off."""

    LOGIN_BURST = 10

    def __init__(self, app: Any, *, per_minute: float, burst: int, login_per_minute: float,
                 session_cookie: str = "kyodaku_session", clock: Callable[[], float] = time.monotonic) -> None:
        self.app, self.session_cookie = app, session_cookie
        self.requests = TokenBuckets(per_minute / 60.0, burst, clock=clock) if per_minute > 0 else None
        self.logins = TokenBuckets(login_per_minute / 60.0, self.LOGIN_BURST, clock=clock) \
            if login_per_minute > 0 else None

    def keys(self, scope: Scope) -> tuple[str, bool, str]:
        """(bucket key, whether it is a credential, client address)."""
        client = scope.get("client") or ("unknown", 0)
        addr = client_key(str(client[0]))
        auth = _header(scope, b"authorization") or ""
        if auth[:7].lower() == "bearer " and auth[7:].strip():
            return "key:" + _digest(auth[7:].strip()), True, addr
        session = _cookie(scope, self.session_cookie)
        if session:
            return "session:" + _digest(session), True, addr
        return "addr:" + addr, False, addr

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or (self.requests is None and self.logins is None):
            await self.app(scope, receive, send)
            return
        key, credential, addr = self.keys(scope)
        wait = 0.0
        if self.logins is not None and scope.get("method") == "POST" and scope.get("path") == "/login":
            wait = self.logins.take("login:" + addr)
        if not wait and credential and self.logins is not None:
            wait = self.logins.take("badkey:" + addr, check_only=True)  # this address guesses keys
        if not wait and self.requests is not None:
            wait = self.requests.take(key)
        if wait:
            seconds = max(1, math.ceil(wait))
            await _refuse(scope, receive, send, 429,
                          f"too many requests: try again in {seconds} s", {"Retry-After": str(seconds)})
            return

        async def watched(message: dict[str, Any]) -> None:
            if credential and self.logins is not None and message.get("type") == "http.response.start" \
                    and message.get("status") == 401:
                self.logins.take("badkey:" + addr)
            await send(message)

        await self.app(scope, receive, watched)

