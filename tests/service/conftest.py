"""The desk's web service on the desk fixture's workspace and clock (TestClient: the real
ASGI app, real database, no server process)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from kyodaku.records.store import Records
from kyodaku.service.app import create_app
from kyodaku.settings import Settings
from tests.desk.conftest import LICENSEE, PASSWORD, desk  # noqa: F401  (the fixture)


@dataclass
class Web:
    client: TestClient
    desk: object
    keys: dict[str, str]

    def api(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def login(self, username: str) -> TestClient:
        """A browser signed in as ``username`` (its own cookie jar)."""
        return login(self.client.app, username)


def login(app, username: str, password: str = PASSWORD) -> TestClient:
    """A browser on ``app`` signed in as ``username`` (its own cookie jar)."""
    c = TestClient(app, follow_redirects=False)
    form = c.get("/login")
    token = form.cookies.get("kyodaku_login_csrf") or c.cookies.get("kyodaku_login_csrf")
    r = c.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"})
    assert r.status_code == 303, r.text
    return c


def csrf_of(html: str) -> str:
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


@pytest.fixture
def web(desk):  # noqa: F811
    settings = Settings(home=desk.workspace.home, database_url=desk.workspace.database_url, licensee=LICENSEE,
                        delivery_interval=0)
    app = create_app(settings, workspace=desk.workspace, clock=desk.clock)
    keys = {name: desk.service.add_api_key(getattr(desk, name), "test")[1]
            for name in ("hoshi", "kumo", "operator", "auditor")}
    with TestClient(app, follow_redirects=False) as client:
        yield Web(client, desk, keys)


def kumo_decision(desk) -> int:  # noqa: F811
    return Records(desk.workspace.session).decisions(desk.scan_id, holder="kumo")[0].id
