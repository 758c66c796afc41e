"""A holder edits its works' keyword sets on the desk (issue 20, item 2): the page
``/works/{work_id}/keywords`` lists them, adds one (the same limits as the API) and
removes one, through the catalog's functions (the registry and its audit entry); the
guard screens the next prompts with the change; a wrong form says what to fix in the
page's language and saves nothing; another holder neither sees nor edits them."""

from __future__ import annotations

import html
import time

import pytest

from kyodaku.audit.outbox import AuditOutboxRow
from tests.service.conftest import csrf_of

PAGE = "/works/w402/keywords"  # kumo's work
PROMPT = "a red crane over the harbour at dusk, oil painting"


def _add(browser, lang: str = "en", keywords: str = "Harbour、 crane", path: str = PAGE):
    page = browser.get(path)
    return browser.post(path, data={"csrf_token": csrf_of(page.text), "lang": lang, "keywords": keywords})


def _sets(web) -> list:
    return web.desk.workspace.registry.list_keyword_sets("w402")


def _audited(web) -> list[tuple[str, str]]:
    with web.desk.workspace.session() as s:
        return [(r.data["event"], r.data["by"]) for r in
                s.query(AuditOutboxRow).filter_by(kind="keywords").order_by(AuditOutboxRow.id)]


def _screen(web, prompt: str = PROMPT) -> dict:
    time.sleep(1.1)  # the guard checks the registry for changes once a second
    r = web.client.post("/api/v1/screen/prompt", headers=web.api("operator"), json={"prompt": prompt})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_holder_adds_a_set_the_page_lists_it_and_the_guard_screens_prompts_with_it(web):
    assert _screen(web)["verdict"] == "cleared"
    browser = web.login("kumo-staff")
    works = browser.get("/works").text
    assert f'href="{PAGE}"' in works
    page = browser.get(PAGE)
    assert page.status_code == 200 and "This work has no keyword sets." in page.text
    assert 'action="/works/w402/keywords"' in page.text and '<option value="en" selected>' in page.text

    r = _add(browser, keywords="Harbour、 crane ,")
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"{PAGE}?saved=added"
    shown = browser.get(r.headers["location"]).text
    assert "The keyword set was added." in shown and "<td>crane, harbour</td>" in shown
    (kset,) = _sets(web)
    assert (kset.lang, kset.keywords, kset.holder) == ("en", ("crane", "harbour"), "kumo")
    assert f'action="/works/w402/keywords/{kset.id}/remove"' in shown
    assert _audited(web) == [("added", "kumo-staff")]

    screened = _screen(web)
    assert screened["verdict"] == "review"
    assert [(k["work_id"], k["holder"]) for k in screened["keywords"]] == [("w402", "kumo")]

    # the same set again changes nothing, and the page says so
    again = _add(browser, keywords="crane, HARBOUR")
    assert again.headers["location"] == f"{PAGE}?saved=unchanged"
    assert "already had that keyword set" in browser.get(again.headers["location"]).text
    assert [k.id for k in _sets(web)] == [kset.id] and len(_audited(web)) == 1


def test_a_holder_removes_a_set(web):
    browser = web.login("kumo-staff")
    assert _add(browser).status_code == 303
    (kset,) = _sets(web)
    assert _screen(web)["verdict"] == "review"
    page = browser.get(PAGE)
    r = browser.post(f"{PAGE}/{kset.id}/remove", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?saved=removed"
    shown = browser.get(r.headers["location"]).text
    assert "The keyword set was removed." in shown and "This work has no keyword sets." in shown
    assert _sets(web) == []
    assert _audited(web) == [("added", "kumo-staff"), ("removed", "kumo-staff")]
    assert _screen(web)["verdict"] == "cleared"
    # removing it again: not found, nothing changes
    assert browser.post(f"{PAGE}/{kset.id}/remove", data={"csrf_token": csrf_of(page.text)}).status_code == 404
    assert len(_audited(web)) == 2


@pytest.mark.parametrize("lang, keywords, message", [
    ("en", ", ".join(f"word{i}" for i in range(13)), "a set has at most 12 keywords; this one has 13"),
    ("en", "", "type at least one keyword"),
    ("en", " , 、 ,", "type at least one keyword"),
    ("en", "harbour, " + "x" * 61, "Keyword 2 has 61 characters; at most 60"),
    ("en", "har\u200bbour, crane", "Keyword 1 holds a character that cannot be seen (U+200B ZERO WIDTH SPACE, character 4)"),
    ("fr", "harbour, crane", "choose Japanese or English"),
])
def test_a_wrong_form_says_what_to_fix_and_saves_nothing(web, lang, keywords, message):
    browser = web.login("kumo-staff")
    r = _add(browser, lang=lang, keywords=keywords)
    assert r.status_code == 422, r.text[:500]
    text = html.unescape(r.text)
    assert message in text and "Nothing was saved" in text
    if keywords.strip():
        assert f'name="keywords" type="text" required value="{html.escape(keywords)}"' in r.text  # kept as typed
    assert _sets(web) == [] and _audited(web) == []


def test_twelve_keywords_of_sixty_characters_are_enough(web):
    words = [f"{i:02d}" + "k" * 58 for i in range(12)]
    assert _add(web.login("kumo-staff"), keywords=", ".join(words)).status_code == 303
    (kset,) = _sets(web)
    assert list(kset.keywords) == words


def test_another_holder_neither_sees_nor_edits_the_sets(web):
    kumo = web.login("kumo-staff")
    assert _add(kumo).status_code == 303
    (kset,) = _sets(web)
    hoshi = web.login("hoshi-staff")
    assert 'href="/works/w402/keywords"' not in hoshi.get("/works").text
    assert 'href="/works/w401/keywords"' in hoshi.get("/works").text
    seen = hoshi.get(PAGE)
    assert seen.status_code == 404 and "harbour" not in seen.text
    token = csrf_of(hoshi.get("/works/w401/keywords").text)
    assert hoshi.post(PAGE, data={"csrf_token": token, "lang": "en", "keywords": "x, y"}).status_code == 404
    assert hoshi.post(PAGE, data={"csrf_token": token, "lang": "en", "keywords": ""}).status_code == 404
    assert hoshi.post(f"{PAGE}/{kset.id}/remove", data={"csrf_token": token}).status_code == 404
    # nor through its own work's address
    assert hoshi.post(f"/works/w401/keywords/{kset.id}/remove", data={"csrf_token": token}).status_code == 404
    assert [k.id for k in _sets(web)] == [kset.id] and web.desk.workspace.registry.list_keyword_sets("w401") == []
    assert _audited(web) == [("added", "kumo-staff")]


def test_operators_read_the_sets_and_change_nothing(web):
    assert _add(web.login("kumo-staff")).status_code == 303
    (kset,) = _sets(web)
    ops = web.login("ops")
    page = ops.get(PAGE)
    assert page.status_code == 200 and "<td>crane, harbour</td>" in page.text
    assert "/remove" not in page.text and 'name="keywords"' not in page.text
    assert "Only the work's holder can change its keyword sets." in html.unescape(page.text)
    token = csrf_of(page.text)
    assert ops.post(PAGE, data={"csrf_token": token, "lang": "en", "keywords": "x, y"}).status_code == 403
    assert ops.post(f"{PAGE}/{kset.id}/remove", data={"csrf_token": token}).status_code == 403
    assert [k.id for k in _sets(web)] == [kset.id]


def test_posts_without_the_csrf_token_are_refused(web):
    browser = web.login("kumo-staff")
    assert browser.post(PAGE, data={"lang": "en", "keywords": "harbour, crane"}).status_code == 403
    assert browser.post(PAGE, data={"csrf_token": "wrong", "lang": "en", "keywords": "harbour, crane"}).status_code == 403
    assert _sets(web) == []


def test_the_page_in_japanese(web):
    browser = web.login("kumo-staff")
    browser.cookies.set("kyodaku_lang", "ja")
    page = browser.get(PAGE)
    assert '<html lang="ja">' in page.text and "キーワードセット" in page.text
    assert "この作品にはキーワードセットがありません。" in page.text and '<option value="ja" selected>' in page.text
    bad = _add(browser, lang="ja", keywords="、".join(f"語{i}" for i in range(13)))
    assert bad.status_code == 422
    text = html.unescape(bad.text)
    assert "1 つのセットのキーワードは 12 個までです（入力は 13 個）" in text and "何も保存されていません" in text
    assert "at most" not in text
    ok = _add(browser, lang="ja", keywords="港、 鶴")
    assert ok.status_code == 303
    assert "キーワードセットを追加しました。" in browser.get(ok.headers["location"]).text
    (kset,) = _sets(web)
    assert (kset.lang, set(kset.keywords)) == ("ja", {"港", "鶴"})
