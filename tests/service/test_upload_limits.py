"""Bounded uploads (issue 18, finding 5): unreadable claim uploads and unusable work
references are refused with the reason and leave nothing stored; a per-holder storage
quota; a request rate limit (429 + Retry-After) per key and per client address; a body
size cap that refuses oversized JSON, form and multipart bodies while they stream in."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kyodaku.registry.models import MediaRow, WorkRow
from kyodaku.service.app import create_app
from kyodaku.settings import Settings
from tests import art
from tests.desk.conftest import LICENSEE, PASSWORD, desk  # noqa: F401  (the fixture)
from tests.media import hostile
from tests.service.conftest import csrf_of
from tests.service.conftest import login as _login


def _app(d, **limits):
    settings = Settings(home=d.workspace.home, database_url=d.workspace.database_url, licensee=LICENSEE,
                        delivery_interval=0, **limits)
    return create_app(settings, workspace=d.workspace, clock=d.clock)


@pytest.fixture
def client(desk):  # noqa: F811
    with TestClient(_app(desk), follow_redirects=False) as c:
        yield c


def _key(d, who: str = "kumo") -> dict[str, str]:
    return {"Authorization": f"Bearer {d.service.add_api_key(getattr(d, who), 't')[1]}"}


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _bad_uploads(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "bad"
    folder.mkdir()
    svg = folder / "drawing.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>')
    noise = folder / "noise.mp4"
    noise.write_bytes(os.urandom(50_000))
    corrupt = folder / "corrupt.jpg"  # a JPEG header, then garbage
    corrupt.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(200_000))
    return {"empty": hostile.make_empty(folder, "empty.png"), "svg": svg, "noise": noise, "corrupt": corrupt,
            "bomb": hostile.make_bomb_png(folder), "jpeg_bomb": hostile.make_jpeg_bomb(folder),
            "truncated": hostile.make_truncated_png(folder), "text_as_png": hostile.make_text_as_png(folder)}


def test_unreadable_claim_uploads_are_refused_and_nothing_is_kept(desk, client, tmp_path):  # noqa: F811
    auth = _key(desk)
    uploads = desk.service.uploads_dir
    for name, path in _bad_uploads(tmp_path).items():
        with path.open("rb") as f:
            r = client.post("/api/v1/holder/claims/upload", headers=auth, data={"work_ids": "w402"},
                            files={"file": (path.name, f, "application/octet-stream")})
        assert r.status_code == 422, (name, r.status_code, r.text)
        assert path.name in r.json()["detail"] and "cannot be read" in r.json()["detail"] \
            or "not an image or video" in r.json()["detail"] or "empty file" in r.json()["detail"], (name, r.text)
    assert _files_under(uploads) == []
    assert client.get("/api/v1/claims", headers=auth).json() == []
    # and on the page form: the desk's error page, with the reason
    browser = _login(client.app, "kumo-staff")
    page = browser.get("/claims")
    with (tmp_path / "bad" / "drawing.svg").open("rb") as f:
        r = browser.post("/claims", data={"csrf_token": csrf_of(page.text), "work_ids": ["w402"]},
                         files={"file": ("drawing.svg", f, "image/svg+xml")})
    assert r.status_code == 422 and "not an image or video by its contents" in r.text
    assert _files_under(uploads) == []


def test_a_picture_named_like_a_video_is_kept_as_a_picture(desk, client, tmp_path):  # noqa: F811
    out = tmp_path / "gen.mp4"
    art.save(art.crop(art.artwork(402)), tmp_path / "gen.png")
    (tmp_path / "gen.png").rename(out)
    with out.open("rb") as f:
        r = client.post("/api/v1/holder/claims/upload", headers=_key(desk), data={"work_ids": "w402"},
                        files={"file": ("gen.mp4", f, "video/mp4")})
    assert r.status_code == 201, r.text
    assert r.json()["evidence"]["verdict"] == "blocked"
    assert [p.suffix for p in _files_under(desk.service.uploads_dir)] == [".png"]


def _work_count(d) -> tuple[int, int]:
    with d.workspace.session() as s:
        return s.scalar(select(func.count(WorkRow.id))), s.scalar(select(func.count(MediaRow.id)))


def test_a_work_with_unusable_references_is_refused_naming_each_file(desk, client, tmp_path):  # noqa: F811
    auth = _key(desk)
    before, media_files = _work_count(desk), _files_under(desk.workspace.home / "media")
    bad = _bad_uploads(tmp_path)
    for name, path in bad.items():
        with path.open("rb") as f:
            r = client.post("/api/v1/holder/works", headers=auth, data={"title": f"bad {name}"},
                            files=[("files", (path.name, f, "application/octet-stream"))])
        assert r.status_code == 422, (name, r.text)
        assert r.json()["detail"].startswith("not registered: ") and path.name in r.json()["detail"], r.text
    good = tmp_path / "good.png"
    art.save(art.artwork(470), good)
    with good.open("rb") as g, bad["svg"].open("rb") as s, bad["bomb"].open("rb") as b:
        r = client.post("/api/v1/holder/works", headers=auth, data={"title": "mixed"},
                        files=[("files", ("good.png", g, "image/png")), ("files", ("drawing.svg", s, "image/svg+xml")),
                               ("files", ("bomb.png", b, "image/png"))])
    assert r.status_code == 422
    assert "drawing.svg: not an image or video" in r.json()["detail"] and "bomb.png: cannot be read as an image" \
        in r.json()["detail"] and "good.png" not in r.json()["detail"]
    assert _work_count(desk) == before and _files_under(desk.workspace.home / "media") == media_files
    # the page form answers with the reason too, and registers nothing
    browser = _login(client.app, "kumo-staff")
    page = browser.get("/works")
    with bad["empty"].open("rb") as f:
        r = browser.post("/works", data={"csrf_token": csrf_of(page.text), "title": "empty"},
                         files=[("files", ("empty.png", f, "image/png"))])
    assert r.status_code == 422 and "empty.png: empty file (0 bytes)" in r.text
    assert _work_count(desk) == before


def test_the_holder_quota_counts_claim_uploads_and_references(desk, tmp_path):  # noqa: F811
    with TestClient(_app(desk, holder_quota_mb=2), follow_redirects=False) as client:
        auth = _key(desk, "hoshi")
        big = tmp_path / "big.png"  # ~0.9 MB of noise: with hoshi's reference, two pass the 2 MiB quota
        import numpy as np

        art.save(np.random.default_rng(1).integers(0, 255, (480, 640, 3), dtype=np.uint8), big)
        assert 900_000 < big.stat().st_size < 1_000_000
        # hoshi already keeps its reference (w401) from the fixture
        with big.open("rb") as f:
            r = client.post("/api/v1/holder/claims/upload", headers=auth, data={"work_ids": "w401"},
                            files={"file": ("big.png", f, "image/png")})
        assert r.status_code == 201, r.text
        art.save(np.random.default_rng(2).integers(0, 255, (480, 640, 3), dtype=np.uint8), big)
        with big.open("rb") as f:
            r = client.post("/api/v1/holder/claims/upload", headers=auth, data={"work_ids": "w401"},
                            files={"file": ("big.png", f, "image/png")})
        assert r.status_code == 413, r.text
        detail = r.json()["detail"]
        assert "storage quota exceeded" in detail and "of its 2.0 MiB" in detail and "MiB more" in detail
        with big.open("rb") as f:
            r = client.post("/api/v1/holder/works", headers=auth, data={"title": "more"},
                            files=[("files", ("big.png", f, "image/png"))])
        assert r.status_code == 413 and "storage quota exceeded" in r.json()["detail"]
        assert len(_files_under(desk.service.uploads_dir)) == 1
        # another holder has its own quota
        with big.open("rb") as f:
            r = client.post("/api/v1/holder/claims/upload", headers=_key(desk, "kumo"), data={"work_ids": "w402"},
                            files={"file": ("big.png", f, "image/png")})
        assert r.status_code == 201, r.text


def test_requests_over_the_rate_get_429_with_retry_after_per_key(desk):  # noqa: F811
    with TestClient(_app(desk, rate_limit_per_minute=6, rate_limit_burst=3), follow_redirects=False) as client:
        kumo, hoshi = _key(desk, "kumo"), _key(desk, "hoshi")
        codes = [client.get("/api/v1/me", headers=kumo).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = client.get("/api/v1/me", headers=kumo)
        assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 10
        assert "too many requests" in r.json()["detail"]
        assert client.get("/api/v1/me", headers=hoshi).status_code == 200  # its own bucket
        # guessed keys: each is charged to the client address too
        guessed = [client.get("/api/v1/me", headers={"Authorization": f"Bearer kyd_guess{i}"}).status_code
                   for i in range(14)]
        assert guessed[:10] == [401] * 10 and 429 in guessed[10:]


def test_sign_in_attempts_are_limited_per_client_address(desk):  # noqa: F811
    with TestClient(_app(desk, login_rate_per_minute=6), follow_redirects=False) as client:
        client.get("/login")
        token = client.cookies.get("kyodaku_login_csrf")
        codes = []
        for i in range(11):  # a new sign-in CSRF cookie comes with each refusal
            codes.append(client.post("/login", data={"username": f"nobody{i}", "password": "x",
                                                     "csrf_token": client.cookies.get("kyodaku_login_csrf")}).status_code)
        assert codes[:10] == [401] * 10 and codes[10] == 429
        r = client.post("/login", data={"username": "nobody", "password": "x", "csrf_token": token})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "too many requests" in r.text


def test_json_and_form_bodies_over_the_cap_are_refused_unread(desk):  # noqa: F811
    with TestClient(_app(desk, max_body_kb=64), follow_redirects=False) as client:
        auth = _key(desk)
        big = b'{"corpus": "corpus-v1", "question": "' + b"x" * 200_000 + b'"}'
        r = client.post("/api/v1/holder/inquiries", headers={**auth, "Content-Type": "application/json"}, content=big)
        assert r.status_code == 413 and "at most 64 KiB" in r.json()["detail"]
        reads = []

        def chunks():  # no Content-Length: counted while it streams
            for i in range(100):
                reads.append(i)
                yield b" " * 8192 if i else b'{"corpus": "corpus-v1", "question": "'

        r = client.post("/api/v1/holder/inquiries", headers={**auth, "Content-Type": "application/json"},
                        content=chunks())
        assert r.status_code == 413, r.text
        assert client.get("/api/v1/inquiries", headers=auth).json() == []
        ok = client.post("/api/v1/holder/inquiries", headers=auth, json={"corpus": "corpus-v1", "question": "x"})
        assert ok.status_code == 201
        browser = _login(client.app, "kumo-staff")
        r = browser.post("/inquiries", data={"corpus": "corpus-v1", "question": "y" * 100_000})
        assert r.status_code == 413


def test_uploads_over_the_limit_are_refused_while_streaming(desk, tmp_path):  # noqa: F811
    with TestClient(_app(desk, max_upload_mb=1), follow_redirects=False) as client:
        auth = _key(desk)
        big = io.BytesIO(b"\xff\xd8\xff\xe0" + os.urandom(3 << 20))
        r = client.post("/api/v1/holder/claims/upload", headers=auth, data={"work_ids": "w402"},
                        files={"file": ("big.jpg", big, "image/jpeg")})
        assert r.status_code == 413 and "an upload is at most 1 MiB" in r.json()["detail"]
        boundary = "kyodakuboundary"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"work_ids\"\r\n\r\nw402\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.jpg\"\r\n"
                "Content-Type: image/jpeg\r\n\r\n").encode()
        sent = []

        def chunks():
            yield head
            for _ in range(64):  # 4 MiB if it were all read
                sent.append(1)
                yield b"\x00" * 65536
            yield f"\r\n--{boundary}--\r\n".encode()

        r = client.post("/api/v1/holder/claims/upload",
                        headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
                        content=chunks())
        assert r.status_code == 413, r.text
        assert _files_under(desk.service.uploads_dir) == []


def test_ipv6_clients_share_the_bucket_of_their_64(desk):  # noqa: F811
    app = _app(desk, login_rate_per_minute=6)
    codes = []
    for i in range(11):  # eleven addresses of one /64
        with TestClient(app, follow_redirects=False, client=(f"2001:db8:1:2::{i + 1:x}", 5000)) as c:
            c.get("/login")
            codes.append(c.post("/login", data={"username": f"n{i}", "password": "x",
                                                "csrf_token": c.cookies.get("kyodaku_login_csrf")}).status_code)
    assert codes[:10] == [401] * 10 and codes[10] == 429
    with TestClient(app, follow_redirects=False, client=("2001:db8:9:9::1", 5000)) as other:
        other.get("/login")
        r = other.post("/login", data={"username": "n", "password": "x",
                                       "csrf_token": other.cookies.get("kyodaku_login_csrf")})
        assert r.status_code == 401  # another network: its own bucket
