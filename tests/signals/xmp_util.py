"""Helpers: XMP packets and files carrying them (written on the fly)."""

from __future__ import annotations

import io
import struct

from PIL import Image

PLUS = "http://ns.useplus.org/ldf/xmp/1.0/"
VOCAB = "http://ns.useplus.org/ldf/vocab/"


def packet(inner: str, *, attrs: str = "") -> str:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="" xmlns:plus="{PLUS}" {attrs}>{inner}</rdf:Description>'
        "</rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def jpeg_with_xmp(xmp: str | bytes, size=(64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, "JPEG")
    data = buf.getvalue()
    body = b"http://ns.adobe.com/xap/1.0/\x00" + (xmp.encode() if isinstance(xmp, str) else xmp)
    app1 = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    return data[:2] + app1 + data[2:]


def png_with_xmp(xmp: str) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()
