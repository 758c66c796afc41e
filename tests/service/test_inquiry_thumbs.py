"""The inquiries list shows, on each row, thumbnails of the references of the works its
answer matched (issue 23, item 9), the same pictures the catalog shows: only works of
the inquiry's own holder, even when a stored answer names another holder's work."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image
from sqlalchemy.orm.attributes import flag_modified

from kyodaku.desk.models import InquiryRow


def _row(html: str, row_id: str) -> str:
    m = re.search(rf'<tr id="{row_id}">(.*?)</tr>', html, re.S)
    assert m, f"no row {row_id}"
    return m.group(1)


def _src(cell: str, work: str, alt: str | None = None) -> str:
    """The ``data:`` URI of the thumbnail of ``work`` (its alt text a pattern, by default
    the lists' "Reference of <work>")."""
    alt = alt or f"Reference of {re.escape(work)}"
    m = re.search(rf'<img src="(data:image/jpeg;base64,[^"]+)" alt="{alt}"', cell)
    assert m, f"no thumbnail of {work} in {cell[:300]}"
    return m.group(1)


def test_inquiry_rows_show_their_matched_own_works(web):
    d = web.desk
    svc = d.service
    mine = svc.file_inquiry(d.kumo, corpus="corpus-v1", question="did our castle appear?")
    empty = svc.file_inquiry(d.kumo, corpus="corpus-v9")  # no such scan: nothing matched
    theirs = svc.file_inquiry(d.hoshi, corpus="corpus-v1")
    kumo = web.login("kumo-staff")
    page = kumo.get("/inquiries")
    assert page.status_code == 200
    row = _row(page.text, f"inquiry-{mine.id}")
    src = _src(row, "w402")
    thumb = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    assert thumb.format == "JPEG" and max(thumb.size) > 0
    assert "Reference of w401" not in page.text and f'id="inquiry-{theirs.id}"' not in page.text
    assert "no picture" in _row(page.text, f"inquiry-{empty.id}")
    # the picture is the catalog's own for that work, which this holder may open
    works = kumo.get("/works")
    assert works.status_code == 200 and _src(_row(works.text, "w402"), "w402", alt='[^"]*') == src
    # the operator sees each row with its own holder's work
    ops = web.login("ops").get("/inquiries").text
    hoshi_row = _row(ops, f"inquiry-{theirs.id}")
    assert _src(hoshi_row, "w401") and "Reference of w402" not in hoshi_row
    assert "Reference of w401" not in _row(ops, f"inquiry-{mine.id}")


def test_a_stored_answer_naming_another_holders_work_shows_no_picture_of_it(web):
    d = web.desk
    mine = d.service.file_inquiry(d.kumo, corpus="corpus-v1")
    with d.workspace.session() as s:
        row = s.get(InquiryRow, mine.id)
        answer = dict(row.answer)
        item = answer["scans"][0]["items"][0]
        item["works"] = [*item["works"], {"work_id": "w401", "score": 1.0, "verdict": "blocked"}]
        row.answer = answer
        flag_modified(row, "answer")
    page = web.login("kumo-staff").get("/inquiries").text
    cell = _row(page, f"inquiry-{mine.id}")
    assert _src(cell, "w402") and "Reference of w401" not in page
