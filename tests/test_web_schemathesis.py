"""Schemathesis against the dashboard's own ``/openapi.json``: no response is ever a 5xx.

Every operation of the schema gets generated requests (valid and invalid parameters alike).
The fast run (``make test``) replaces the six heavy computations (report, lead-lag, event
study, timeline, network, backtest) by stubs that refuse cleanly once every check before them has passed, so the
parsing and validation layers are what is fuzzed; the slow run (``pytest -m slow``) computes
everything for real on the bundled data, with fewer examples.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from havenflow import report as report_package
from havenflow import services
from havenflow.data.repository import DataRepository
from havenflow.exceptions import DataValidationError
from havenflow.web.app import create_app

HOSTS = ["testserver", "localhost", "127.0.0.1"]
APP = create_app(lambda: DataRepository(store=None), allowed_hosts=HOSTS)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
SEEN: dict[int, int] = {}


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise DataValidationError("stub: the heavy computation is not run in the fast suite")


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    import havenflow.claims.timeline
    import havenflow.services.backtest
    import havenflow.services.network

    monkeypatch.setattr(report_package, "build_report", _refuse)
    monkeypatch.setattr(services, "run_leadlag", _refuse)
    monkeypatch.setattr(services, "run_events", _refuse)
    monkeypatch.setattr(havenflow.claims.timeline, "verdict_timeline", _refuse)
    monkeypatch.setattr(havenflow.services.network, "run_network", _refuse)
    monkeypatch.setattr(havenflow.services.backtest, "run_backtest", _refuse)


def _no_server_error(case: Any, timeout: float = 10.0) -> None:
    response = case.call(headers={"Host": "testserver"}, timeout=timeout)
    SEEN[response.status_code] = SEEN.get(response.status_code, 0) + 1
    assert response.status_code < 500, (case.path, case.query, response.text[:300])
    if response.status_code >= 400 and case.path.startswith("/api/"):
        detail = response.json().get("detail")
        assert detail  # a clear message, never an empty error


@SCHEMA.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case: Any, stubbed: None) -> None:
    _no_server_error(case)


@pytest.mark.slow
@SCHEMA.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error_computing_for_real(case: Any) -> None:
    _no_server_error(case, timeout=600.0)  # a default timeline is 12 full checks


def test_the_fuzz_sent_requests_and_got_both_answers() -> None:
    # After the fast run (same module): valid requests answered 200 and invalid ones 4xx.
    if not SEEN:
        pytest.skip("the schemathesis run did not run in this session")
    print(f"schemathesis responses by status: {dict(sorted(SEEN.items()))}")
    assert sum(SEEN.values()) >= 100
    assert SEEN.get(200, 0) > 0
    assert sum(n for code, n in SEEN.items() if 400 <= code < 500) > 0
    assert all(code < 500 for code in SEEN)
