"""IPTC / PLUS data-mining signals from a file's XMP packet.

The packet is found by a byte search (``<?xpacket begin`` ... ``<?xpacket end``,
else ``<x:xmpmeta`` ... ``</x:xmpmeta>``), which works for JPEG APP1, PNG iTXt
``XML:com.adobe.xmp``, WebP ``XMP `` chunks, TIFF, MP4 ``uuid`` boxes and
sidecars alike (uncompressed UTF-8 packets only). It is parsed with
``xml.etree.ElementTree`` after refusing any ``<!DOCTYPE``/``<!ENTITY`` (so no
entity expansion: billion-laughs packets are ``unreadable`` at once) and
packets over :data:`MAX_PACKET_BYTES`.

``plus:DataMining`` (namespace ``http://ns.useplus.org/ldf/xmp/1.0/``) may be an
attribute of ``rdf:Description``, an element with text, an element with
``rdf:resource``, or an ``rdf:li``; the value is a PLUS vocabulary URI
(``http://ns.useplus.org/ldf/vocab/DMI-...``) or the bare code:

* ``DMI-PROHIBITED*`` -> reserved (``-AIMLTRAINING`` -> training,
  ``-GENAIMLTRAINING`` -> generative_training, the others -> data_mining);
  ``DMI-PROHIBITED-SEEOTHERCONSTRAINTS`` carries ``plus:OtherConstraints`` text
  in the detail;
* ``DMI-ALLOWED`` -> allowed; ``DMI-UNSPECIFIED`` -> unspecified;
* anything else, or malformed XML -> unreadable.
"""

from __future__ import annotations

import mmap
import re
import xml.etree.ElementTree as ET

from kyodaku.signals.base import Signal, Use

PLUS_NS = "http://ns.useplus.org/ldf/xmp/1.0/"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MAX_PACKET_BYTES = 1 << 20  # 1 MiB; real packets are a few KiB
MAX_PACKETS = 8

_DM = f"{{{PLUS_NS}}}DataMining"
_OC = f"{{{PLUS_NS}}}OtherConstraints"
_RESOURCE = f"{{{RDF_NS}}}resource"
_LI = f"{{{RDF_NS}}}li"

_PROHIBITED_USES: dict[str, Use] = {
    "DMI-PROHIBITED": "data_mining",
    "DMI-PROHIBITED-AIMLTRAINING": "training",
    "DMI-PROHIBITED-GENAIMLTRAINING": "generative_training",
    "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING": "data_mining",
    "DMI-PROHIBITED-SEEOTHERCONSTRAINTS": "data_mining",
}
_DANGEROUS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def find_packets(data: bytes | bytearray | mmap.mmap) -> list[bytes]:
    """Raw XMP packets (``x:xmpmeta`` elements) found in ``data``, at most MAX_PACKETS."""
    out: list[bytes] = []
    pos = 0
    while len(out) < MAX_PACKETS:
        start = data.find(b"<x:xmpmeta", pos)
        if start == -1:
            break
        end = data.find(b"</x:xmpmeta>", start)
        if end == -1:
            out.append(bytes(data[start:start + MAX_PACKET_BYTES + 1]))  # truncated: will fail to parse
            break
        end += len(b"</x:xmpmeta>")
        # a DOCTYPE/ENTITY placed just before the element belongs to this packet
        head = max(0, start - 4096)
        prefix = bytes(data[head:start])
        xp = prefix.rfind(b"<?xpacket begin")
        packet = bytes(data[start:end])
        if xp != -1 and _DANGEROUS.search(prefix[xp:]):
            packet = prefix[xp:] + packet
        out.append(packet)
        pos = end
    return out


def _text_values(el: ET.Element) -> list[str]:
    vals: list[str] = []
    if el.get(_RESOURCE):
        vals.append(el.get(_RESOURCE, ""))
    lis = [li for li in el.iter(_LI)]
    for li in lis:
        if li.get(_RESOURCE):
            vals.append(li.get(_RESOURCE, ""))
        elif li.text and li.text.strip():
            vals.append(li.text.strip())
    if not lis and el.text and el.text.strip():
        vals.append(el.text.strip())
    return vals


def _collect(root: ET.Element, name: str) -> list[str]:
    vals: list[str] = []
    for el in root.iter():
        if el.tag == name:
            vals.extend(_text_values(el))
        elif name in el.attrib:
            vals.append(el.attrib[name].strip())
    return vals


def signals_from_packet(packet: bytes) -> list[Signal]:
    if len(packet) > MAX_PACKET_BYTES:
        return [Signal("iptc", "all", "unreadable", f"XMP packet over {MAX_PACKET_BYTES} bytes")]
    if _DANGEROUS.search(packet):
        return [Signal("iptc", "all", "unreadable", "XMP packet declares a DOCTYPE/ENTITY (refused)")]
    try:
        root = ET.fromstring(packet)
    except ET.ParseError as exc:
        return [Signal("iptc", "all", "unreadable", f"malformed XMP: {exc}")]
    except Exception as exc:  # noqa: BLE001 - readers never raise  # pragma: no cover
        return [Signal("iptc", "all", "unreadable", f"XMP could not be parsed: {exc}")]

    out: list[Signal] = []
    values = _collect(root, _DM)
    if not values:
        return out
    other = "; ".join(v for v in _collect(root, _OC) if v)
    for value in values:
        code = value.rstrip("/").rsplit("/", 1)[-1].strip().upper()
        if code in _PROHIBITED_USES:
            detail = f"plus:DataMining={code}"
            if code == "DMI-PROHIBITED-SEEOTHERCONSTRAINTS":
                detail += f"; plus:OtherConstraints: {other or '(none given)'}"
            out.append(Signal("iptc", _PROHIBITED_USES[code], "reserved", detail))
        elif code == "DMI-ALLOWED":
            out.append(Signal("iptc", "data_mining", "allowed", f"plus:DataMining={code}"))
        elif code == "DMI-UNSPECIFIED":
            out.append(Signal("iptc", "data_mining", "unspecified", f"plus:DataMining={code}"))
        else:
            out.append(Signal("iptc", "all", "unreadable", f"unknown plus:DataMining value {value!r}"))
    return out


def read_xmp(data: bytes | bytearray | mmap.mmap) -> list[Signal]:
    """PLUS data-mining signals of every XMP packet in ``data``. Never raises."""
    try:
        if data.find(b"xmpmeta") == -1:
            return []
        out: list[Signal] = []
        for packet in find_packets(data):
            out.extend(signals_from_packet(packet))
        return out
    except Exception as exc:  # noqa: BLE001 - readers never raise  # pragma: no cover
        return [Signal("iptc", "all", "unreadable", f"XMP could not be read: {exc}")]
