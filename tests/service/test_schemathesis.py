"""The API against its own OpenAPI spec: schemathesis generates requests (valid and
invalid) for every operation and sends each with a holder's and an operator's API key to
the real ASGI app on a seeded workspace.  No answer may be a server error: bad input is a
4xx with a reason, never a 500."""

from __future__ import annotations

from collections import Counter

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install -e '.[test]')")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from kyodaku.records.store import Records  # noqa: E402
from kyodaku.service.app import create_app  # noqa: E402
from kyodaku.settings import Settings  # noqa: E402
from kyodaku.workspace import Workspace  # noqa: E402
from tests.conftest import DATABASES, PG_URL, _reset_database  # noqa: E402
from tests.desk.conftest import LICENSEE, build_desk  # noqa: E402

ROLES = ("kumo", "operator")


@pytest.fixture(scope="module", params=DATABASES)
def seeded(request, tmp_path_factory):
    """One seeded desk for the whole module (rebuilding it per operation would cost more
    than the fuzzing); the generated requests pile up state in it, which is fine here."""
    url = None
    if request.param == "server":
        assert PG_URL is not None
        _reset_database(PG_URL)
        url = PG_URL
    folder = tmp_path_factory.mktemp("fuzz")
    ws = Workspace.init(folder / "kyodaku-home", url)
    desk = build_desk(ws, folder)
    # no rate limit: the fuzzer sends a thousand requests a key in a minute (429s would hide the operations)
    app = create_app(Settings(home=ws.home, database_url=ws.database_url, licensee=LICENSEE,
                              rate_limit_per_minute=0, login_rate_per_minute=0),
                     workspace=ws, clock=desk.clock)
    keys = {role: desk.service.add_api_key(getattr(desk, role), "fuzz")[1] for role in ROLES}
    # a claim and an inquiry to find (small ids are what the generators try first)
    decision = Records(ws.session).decisions(desk.scan_id, holder="kumo")[0].id
    desk.service.file_claim(desk.kumo, work_ids=["w402"], decision_id=decision, description="seed")
    desk.service.file_inquiry(desk.kumo, corpus="corpus-v1", work_ids=["w402"], question="seed")
    yield app, keys
    ws.dispose()


MAX_EXAMPLES = 40  # per operation: well under a minute for the whole API on SQLite


def test_no_operation_answers_with_a_server_error(seeded):
    """Every operation of the spec, positive and negative cases; failures are collected
    across operations so one run shows them all."""
    app, keys = seeded
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20, "the spec lost its operations"
    failures: list[str] = []
    statuses: Counter[tuple[str, int]] = Counter()
    for operation in operations:
        cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE))

        @given(case=cases)
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def no_server_error(case) -> None:
            for role in ROLES:
                response = case.call(headers={"Authorization": f"Bearer {keys[role]}"})
                statuses[operation.label, response.status_code] += 1  # noqa: B023 - run in this iteration
                assert response.status_code < 500, (role, response.status_code, response.text[:300])
                case.validate_response(response, checks=[not_a_server_error])

        try:
            no_server_error()
        except Exception as exc:  # noqa: BLE001  (collected, then reported together)
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    # the fuzzing reached the handlers: some requests of each role were accepted (2xx)
    assert sum(n for (_, code), n in statuses.items() if code < 300) >= 50, statuses
