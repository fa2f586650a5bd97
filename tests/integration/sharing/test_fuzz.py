"""Schemathesis against the served OpenAPI document: valid and invalid requests generated for
every operation, signed in, never get a 5xx, and every error is the API's JSON error."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from gridweave.sharing import catalog
from tests.integration.sharing.conftest import City

EXAMPLES = 5  # per operation and mode: ~22 operations × 2 modes, well under a minute


def _fuzz(city: City, operation: Any, mode: schemathesis.GenerationMode) -> list[str]:
    """Generated requests to one operation; what went wrong."""
    persona = "auditor" if operation.path.startswith("/audit") else "police"
    headers = city.headers(persona)
    failures: list[str] = []

    @given(case=operation.as_strategy(mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        try:
            response = case.call(headers=headers)
        except Exception as exc:  # the app raised instead of answering: a server error
            failures.append(f"{case.method} {case.formatted_path}: raised {exc!r}")
            return
        where = f"{case.method} {case.formatted_path} {case.query}"
        if response.status_code >= 500:
            failures.append(f"{where}: {response.status_code} {response.text[:200]}")
        elif response.status_code >= 400:
            body = response.json()
            if not {"code", "message"} <= set(body):
                failures.append(f"{where}: error without code/message: {body}")

    run()
    return failures


def _operations(city: City) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", city.client.app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=str)
def test_generated_requests_get_no_server_error(
    city: City, mode: schemathesis.GenerationMode
) -> None:
    operations = _operations(city)
    assert len(operations) >= 20
    failures = []
    for operation in operations:
        if operation.path == "/auth/logout":
            continue  # no input to fuzz; it would end the session the other cases run in
        failures += _fuzz(city, operation, mode)
    assert not failures, failures


def test_the_fuzzer_reports_a_server_error(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the catalog is broken")

    monkeypatch.setattr(catalog, "list_catalog", broken)
    (operation,) = [op for op in _operations(city) if op.path == "/catalog"]
    assert _fuzz(city, operation, schemathesis.GenerationMode.POSITIVE)
