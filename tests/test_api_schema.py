"""Property-based tests of every route of the REST API, generated from its own OpenAPI schema
(schemathesis) and sent to the real uvicorn server on 127.0.0.1: whatever the input, no 500."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings


@pytest.fixture(scope="session")
def api_schema(api_server):
    return schemathesis.openapi.from_url(api_server.url + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_no_input_makes_any_route_fail_with_a_server_error(case, access_index, api_server):
    # reads as a reader of the restricted group; the upload route as an administrator (a reader would
    # only ever get 403 there, before the body is read)
    caller = "admin" if case.path == "/api/ingest" else "insider"
    response = case.call(base_url=api_server.url, headers={"Authorization": f"Bearer {access_index.tokens[caller]}"},
                         timeout=120)
    assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"detail", "field"} and body["detail"]
