"""The catalog page at a studio's size: a search over id, title, holder and aliases
(full-width and half-width alike), pages of works, a thumbnail per work (issue 23, item 9,
the catalog part)."""

from __future__ import annotations

from kyodaku.desk import catalog
from tests import art


def test_search_matches_ids_titles_and_aliases_in_any_width(web, tmp_path):
    d = web.desk
    catalog.set_aliases(d.service, d.kumo, "w402", ["ＫＵＭＯ Ｎｏ Ｓｈｉｒｏ@ja-Latn", "雲の城@ja"])
    found = catalog.search_works(d.service, d.operator, "kumo no")
    assert [w.work_id for w in found.works] == ["w402"] and found.total == 1
    assert [w.work_id for w in catalog.search_works(d.service, d.operator, "雲の").works] == ["w402"]
    assert catalog.search_works(d.service, d.operator, "w40").total == 2
    assert catalog.search_works(d.service, d.operator, "nothing like it").total == 0
    # a holder's search never reaches another holder's works
    assert catalog.search_works(d.service, d.hoshi, "kumo").total == 0


def test_pages_of_works_newest_first(web, tmp_path):
    d = web.desk
    for seed in (403, 404, 405):
        art.register_artwork(d.workspace, tmp_path, seed, holder="kumo")
    first = catalog.search_works(d.service, d.operator, "", page=1, per_page=2)
    second = catalog.search_works(d.service, d.operator, "", page=2, per_page=2)
    last = catalog.search_works(d.service, d.operator, "", page=99, per_page=2)
    assert (first.total, first.pages) == (5, 3)
    assert [w.work_id for w in first.works] == ["w405", "w404"] and [w.work_id for w in second.works] == ["w403", "w402"]
    assert last.page == 3 and [w.work_id for w in last.works] == ["w401"]


def test_the_works_page_searches_and_shows_thumbnails(web):
    d = web.desk
    catalog.set_aliases(d.service, d.kumo, "w402", ["雲の城@ja"])
    browser = web.login("ops")
    page = browser.get("/works", params={"q": "雲の城"})
    assert page.status_code == 200
    body = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert 'id="w402"' in body and 'id="w401"' not in body
    assert 'src="data:image/jpeg;base64,' in body
    holder = web.login("hoshi-staff").get("/works", params={"q": "w402"}).text
    assert 'id="w402"' not in holder.split("<tbody>", 1)[1]
