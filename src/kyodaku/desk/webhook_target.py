"""Where a webhook may point, and posting to it without being turned against this network.

Three rules (finding 4 of issue 18; see docs/webhooks.md):

1. **One spelling of a host.**  A webhook URL is ``http(s)://name[:port]/path`` with no user
   name or password, and its host is a DNS name of letters, digits and hyphens, a canonical
   dotted-quad IPv4 address or a bracketed IPv6 address.  The forms that other parsers (and
   ``inet_aton``) read as addresses -- ``127.1``, ``2130706433``, ``0x7f000001``,
   ``0177.0.0.1`` -- are refused always, with or without ``allow_private``.
2. **Public addresses only** (unless ``allow_private``): an address literal, and at delivery
   every address the name resolves to, must be globally routable -- not loopback, private,
   link-local, CGNAT, multicast, reserved, unspecified, documentation, nor an IPv6 address
   that embeds such an IPv4 address (mapped, compatible, NAT64, 6to4) or is Teredo.
3. **Connect to the address that was checked.**  The name is resolved once; the connection
   goes to those addresses (the first that answers) while the Host header, TLS SNI and certificate check use the name,
   so a second DNS answer (rebinding) cannot redirect it.  Redirects are never followed: a
   3xx answer is a failed delivery.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from kyodaku.registry.base import RegistryError

__all__ = ["DeliveryRefused", "Resolver", "Target", "address_refusal", "check_webhook_target", "parse_target", "post_pinned",
           "system_resolver"]

#: ``resolver(host, port)`` -> the addresses to try, as strings
Resolver = Callable[[str, int], list[str]]

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
#: names that always mean this machine or a local network
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".home.arpa", ".lan", ".intranet")
#: IPv4 ranges refused beyond what ``ipaddress`` calls non-global (multicast is "global" there)
_V4_EXTRA = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32"))
_V6_EXTRA = tuple(ipaddress.ip_network(n) for n in (
    "::/96", "::ffff:0:0/96", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/32", "2001:db8::/32",
    "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8"))


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: the host as written (for Host and TLS), port, and request path."""

    scheme: str
    host: str
    port: int
    path: str
    #: the host is an address literal
    literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None


def address_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a webhook may not be sent to ``ip``, or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return f"{ip} has a zone index"
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _V6_EXTRA[0] and int(ip) > 1:  # ::a.b.c.d (IPv4-compatible)
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and (ip in _V6_EXTRA[2] or ip in _V6_EXTRA[3]):  # NAT64
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and address_refusal(embedded) is not None:
            return f"{ip} embeds the IPv4 address {embedded}, {address_refusal(embedded)}"
        if ip.teredo is not None:
            return f"{ip} is a Teredo tunnel address"
    for name, hit in (("loopback (this machine)", ip.is_loopback), ("unspecified", ip.is_unspecified),
                      ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                      ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if hit:
            return f"{ip} is a {name} address"
    extra = _V4_EXTRA if isinstance(ip, ipaddress.IPv4Address) else _V6_EXTRA
    for net in extra:
        if ip in net:
            return f"{ip} is in the special-purpose range {net}"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def _parse_ipv4_like(host: str) -> ipaddress.IPv4Address | None:
    """``host`` read the way ``inet_aton`` (and browsers) read it, when it looks numeric."""
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def parse_target(url: str) -> Target:
    """``url`` split and checked for rule 1 (one spelling); raises RegistryError naming why."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        raise RegistryError("a webhook URL is http:// or https:// with a host name (at most 2000 characters)")
    if any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in url) or not url.isascii():
        raise RegistryError("a webhook URL may not contain spaces, control characters, backslashes or "
                            "non-ASCII characters (write an international name in its xn-- form)")
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:
        raise RegistryError(f"webhook URL cannot be read: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RegistryError("a webhook URL is http:// or https:// with a host name")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise RegistryError("a webhook URL may not carry a user name or password (no '@' before the host)")
    try:
        port = parts.port if parts.port is not None else (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise RegistryError(f"webhook URL port is not a number from 1 to 65535: {parts.netloc}") from None
    if port == 0:
        raise RegistryError("webhook URL port is not a number from 1 to 65535")
    host = parts.hostname or ""
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not host:
        raise RegistryError("a webhook URL needs a host name")
    if parts.netloc.startswith("["):  # IPv6 literal
        if "%" in host:
            raise RegistryError(f"webhook host [{host}] has a zone index; give a public address")
        try:
            ip6 = ipaddress.IPv6Address(host)
        except ValueError:
            raise RegistryError(f"webhook host [{host}] is not an IPv6 address") from None
        return Target(parts.scheme, host, port, path, ip6)
    labels = host.removesuffix(".").split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise RegistryError(f"webhook host {host!r} is not a host name (letters, digits, hyphens and dots)")
    if _NUMERIC_LABEL.match(labels[-1]):
        # an address: only the canonical dotted quad, never 127.1 / 2130706433 / 0x7f000001 / 0177.0.0.1
        ip4 = _parse_ipv4_like(host.removesuffix("."))
        if ip4 is None or str(ip4) != host:
            shown = f" (read as {ip4})" if ip4 is not None else ""
            raise RegistryError(f"webhook host {host!r} is a numeric form{shown}; write an IPv4 address as "
                                "four decimal numbers, or use a host name")
        return Target(parts.scheme, host, port, path, ip4)
    return Target(parts.scheme, host, port, path, None)


def check_webhook_target(url: str, *, allow_private: bool = False, resolve: bool = False,
                         resolver: Resolver | None = None) -> list[str]:
    """Refuse a webhook URL that breaks rule 1, or (unless ``allow_private``) aims at this
    machine or a private network.  With ``resolve``, resolve the name once and check every
    address; returns the addresses to connect to (empty without ``resolve``)."""
    target = parse_target(url)
    if not allow_private:
        if target.literal is not None:
            why = address_refusal(target.literal)
            if why:
                raise RegistryError(f"webhook host {target.host} is on this machine or a private network: {why}")
        else:
            name = target.host.removesuffix(".")
            if name in _LOCAL_NAMES or name.endswith(_LOCAL_SUFFIXES):
                raise RegistryError(f"webhook host {target.host} is on this machine or a private network")
            if "." not in name:
                raise RegistryError(f"webhook host {target.host} is not a fully qualified public name")
    if not resolve:
        return []
    addrs = _resolve(target, resolver or system_resolver)
    if not allow_private:
        for a in addrs:
            why = address_refusal(ipaddress.ip_address(a))
            if why:
                raise RegistryError(f"webhook host {target.host} resolves to a refused address: {why}")
    return addrs


def _resolve(target: Target, resolver: Resolver) -> list[str]:
    if target.literal is not None:
        return [str(target.literal)]
    try:
        addrs = [str(ipaddress.ip_address(a)) for a in resolver(target.host, target.port)]
    except (OSError, ValueError) as exc:
        raise RegistryError(f"cannot resolve webhook host {target.host}: {exc}") from None
    if not addrs:
        raise RegistryError(f"webhook host {target.host} has no address")
    return addrs


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (A and AAAA), in the resolver's order."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


def _connect_any(addresses: list[str], port: int, timeout: float) -> socket.socket:
    """A TCP connection to the first of the checked ``addresses`` that answers."""
    last: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as exc:
            last = exc
    raise last or OSError("no address to connect to")


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to fixed addresses; the Host header still names ``host``."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect_any(self._addresses, self.port, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to fixed addresses; SNI and the certificate check use ``host``."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float,
                 context: ssl.SSLContext | None = None) -> None:
        self._ssl = context or ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._ssl)
        self._addresses = addresses

    def connect(self) -> None:
        sock = _connect_any(self._addresses, self.port, self.timeout)
        try:
            self.sock = self._ssl.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class DeliveryRefused(RuntimeError):
    """The receiver did not take the event (a non-2xx answer, a redirect)."""


def post_pinned(url: str, body: bytes, headers: dict[str, str], *, allow_private: bool, timeout: float,
                resolver: Resolver | None = None, ssl_context: ssl.SSLContext | None = None) -> int:
    """POST ``body`` to ``url`` under the three rules; returns the HTTP status (2xx), or
    raises RegistryError (refused before connecting) / DeliveryRefused / OSError."""
    target = parse_target(url)
    addrs = check_webhook_target(url, allow_private=allow_private, resolve=True, resolver=resolver)
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        conn = _PinnedHTTPS(target.host, target.port, addrs, timeout, ssl_context)
    else:
        conn = _PinnedHTTP(target.host, target.port, addrs, timeout)
    try:
        conn.request("POST", target.path, body=body, headers={"Content-Type": "application/json", **headers})
        resp = conn.getresponse()
        status = resp.status
        location = resp.getheader("Location", "")
        resp.read(65536)
    finally:
        conn.close()
    if 300 <= status < 400:
        raise DeliveryRefused(f"webhook answered HTTP {status} (redirect to {location[:200]!r}); "
                              "redirects are not followed: register the final URL")
    if not 200 <= status < 300:
        raise DeliveryRefused(f"webhook answered HTTP {status}, not 2xx")
    return status
