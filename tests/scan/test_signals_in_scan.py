"""Embedded rights signals in a real scan: a reservation blocks a file that matches no
registered work, an unreadable signal sends it to review, never to cleared."""

from __future__ import annotations

import json
from datetime import date

from kyodaku.scan.pipeline import ScanOptions, scan_paths
from tests.signals.test_c2pa import _sign, signer_pem  # noqa: F401 - signer_pem is a fixture
from tests.signals.xmp_util import jpeg_with_xmp, packet

ON = date(2026, 6, 1)


def _scan(workspace, folder, use="training"):
    import io

    out = io.StringIO()
    scan_paths(workspace, [folder], ScanOptions("acme", use, ON, workers=0), out=out)
    return {json.loads(x)["path"].rsplit("/", 1)[1]: json.loads(x) for x in out.getvalue().splitlines()}


def test_signals_decide_files_no_registered_work_matches(workspace, tmp_path, signer_pem):  # noqa: F811
    folder = tmp_path / "corpus"
    folder.mkdir()
    prohibited = '<plus:DataMining rdf:resource="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"/>'
    (folder / "iptc_reserved.jpg").write_bytes(jpeg_with_xmp(packet(prohibited)))
    allowed = '<plus:DataMining rdf:resource="http://ns.useplus.org/ldf/vocab/DMI-ALLOWED"/>'
    (folder / "iptc_allowed.jpg").write_bytes(jpeg_with_xmp(packet(allowed)))
    (folder / "xmp_broken.jpg").write_bytes(jpeg_with_xmp(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF"
                                                          b"</x:xmpmeta>"))
    (folder / "c2pa_reserved.jpg").write_bytes(_sign(signer_pem, "cawg.training-mining",
                                                     {"cawg.ai_training": {"use": "notAllowed"}}))
    lines = _scan(workspace, folder)
    assert lines["iptc_reserved.jpg"]["verdict"] == "blocked"
    assert "embedded rights signal (iptc" in lines["iptc_reserved.jpg"]["reason"]
    assert lines["c2pa_reserved.jpg"]["verdict"] == "blocked"
    assert lines["c2pa_reserved.jpg"]["signals"][0]["source"] == "c2pa"
    assert lines["iptc_allowed.jpg"]["verdict"] == "cleared"
    assert lines["xmp_broken.jpg"]["verdict"] == "review"
    assert "could not be read" in lines["xmp_broken.jpg"]["reason"]
    # a training reservation says nothing about generation
    assert _scan(workspace, folder, use="generation")["iptc_reserved.jpg"]["verdict"] == "cleared"
