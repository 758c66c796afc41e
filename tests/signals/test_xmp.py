from __future__ import annotations

import time

import pytest

from kyodaku.signals import read_signals
from kyodaku.signals.xmp import MAX_PACKET_BYTES, read_xmp, signals_from_packet

from .xmp_util import VOCAB, jpeg_with_xmp, packet, png_with_xmp


@pytest.mark.parametrize("code,use", [
    ("DMI-PROHIBITED", "data_mining"),
    ("DMI-PROHIBITED-AIMLTRAINING", "training"),
    ("DMI-PROHIBITED-GENAIMLTRAINING", "generative_training"),
    ("DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING", "data_mining"),
])
def test_prohibited_values_reserve(code, use):
    data = jpeg_with_xmp(packet(f"<plus:DataMining>{VOCAB}{code}</plus:DataMining>"))
    report = read_signals(data, mime="image/jpeg")
    sig = report.reservation_for("training")
    assert sig is not None and sig.source == "iptc" and sig.use == use and code in sig.detail
    assert report.reservation_for("generation") is None
    assert report.unreadable() == []


def test_see_other_constraints_carries_text():
    inner = (f'<plus:DataMining rdf:resource="{VOCAB}DMI-PROHIBITED-SEEOTHERCONSTRAINTS"/>'
             '<plus:OtherConstraints><rdf:Alt><rdf:li xml:lang="x-default">'
             "No AI training without a licence from the studio</rdf:li></rdf:Alt></plus:OtherConstraints>")
    sig = read_signals(jpeg_with_xmp(packet(inner))).reservation_for("training")
    assert sig is not None and "No AI training without a licence" in sig.detail


def test_allowed_as_attribute():
    xmp = packet("", attrs=f'plus:DataMining="{VOCAB}DMI-ALLOWED"')
    sigs = read_xmp(jpeg_with_xmp(xmp))
    assert [(s.status, s.use) for s in sigs] == [("allowed", "data_mining")]


def test_unspecified_in_png_itxt():
    sigs = read_xmp(png_with_xmp(packet(f"<plus:DataMining>{VOCAB}DMI-UNSPECIFIED</plus:DataMining>")))
    assert [s.status for s in sigs] == ["unspecified"]


def test_bare_code_and_unknown_value():
    assert read_xmp(packet("<plus:DataMining>DMI-PROHIBITED</plus:DataMining>").encode())[0].status == "reserved"
    sigs = read_xmp(packet("<plus:DataMining>maybe later</plus:DataMining>").encode())
    assert [s.status for s in sigs] == ["unreadable"]


def test_no_datamining_no_signal():
    assert read_xmp(jpeg_with_xmp(packet('<plus:Licensee>x</plus:Licensee>'))) == []
    assert read_xmp(b"\xff\xd8 no metadata here \xff\xd9") == []


def test_malformed_xml_unreadable():
    bad = packet(f"<plus:DataMining>{VOCAB}DMI-ALLOWED</plus:DataMinin>")
    report = read_signals(jpeg_with_xmp(bad))
    assert [s.status for s in report.signals] == ["unreadable"]
    assert report.reservation_for("training") is None and report.unreadable()


def test_billion_laughs_unreadable_quickly():
    ents = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    bomb = ('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            f"<!DOCTYPE x:xmpmeta [{ents}]>"
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/">'
            "<plus:DataMining>&lol9;</plus:DataMining></rdf:Description></rdf:RDF></x:xmpmeta>"
            '<?xpacket end="w"?>')
    t = time.perf_counter()
    sigs = read_xmp(jpeg_with_xmp(bomb))
    assert time.perf_counter() - t < 0.5
    assert [s.status for s in sigs] == ["unreadable"] and "DOCTYPE" in sigs[0].detail
    # without the xpacket wrapper the entity is undefined: a parse error, still unreadable
    t = time.perf_counter()
    sigs = read_xmp(bomb.replace('<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>', "").encode())
    assert [s.status for s in sigs] == ["unreadable"] and time.perf_counter() - t < 0.5


def test_oversized_packet_unreadable():
    big = packet("<plus:Licensee>" + "a" * (MAX_PACKET_BYTES + 10) + "</plus:Licensee>")
    sigs = signals_from_packet(big.encode())
    assert [s.status for s in sigs] == ["unreadable"]
