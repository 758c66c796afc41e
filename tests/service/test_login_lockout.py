"""The sign-in page locks per account and client address, the address being the TCP peer
(a forwarded-for header is ignored) (issue 18, item 7)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kyodaku.desk.auth import LOCK_AFTER
from tests.service.conftest import PASSWORD

STRANGER, OWNER = ("198.51.100.66", 40000), ("203.0.113.7", 40001)


def _sign_in(app, client: tuple[str, int], password: str, **headers: str) -> int:
    c = TestClient(app, follow_redirects=False, client=client)
    c.get("/login")
    token = c.cookies.get("kyodaku_login_csrf")
    r = c.post("/login", data={"username": "hoshi-staff", "password": password, "csrf_token": token, "next": "/"},
               headers=headers)
    return r.status_code


def test_a_strangers_wrong_passwords_on_the_page_do_not_lock_the_owner_out(web):
    app = web.client.app
    for _ in range(LOCK_AFTER):  # claiming to be the owner does not make it the owner
        assert _sign_in(app, STRANGER, "not the password", **{"X-Forwarded-For": OWNER[0]}) == 401
    assert _sign_in(app, STRANGER, PASSWORD) == 401
    assert _sign_in(app, STRANGER, PASSWORD, **{"X-Forwarded-For": "192.0.2.1"}) == 401
    assert _sign_in(app, OWNER, PASSWORD) == 303
