"""Tests of the shared HTTP transport: connection settings, retries, errors and redaction."""

from __future__ import annotations

import pytest
import requests
from structlog.testing import capture_logs

from vh_cutover.exceptions import (
    ConnectionConfigError,
    CutoverHttpError,
    MalformedResponseError,
    SystemUnreachableError,
)
from vh_cutover.hooks.base import ConnectionSettings, CutoverHttpHook

# Loopback with the discard port: a request that escapes the mock goes nowhere.
BASE_URL = "http://127.0.0.1:9/api"
TOKEN = "tok-7Qz9-not-a-real-token"
CONN_ID = "vh_test_system"


class _ProbeHook(CutoverHttpHook):
    system = "probe"
    test_endpoint = "/status"


@pytest.fixture
def hook(set_connection) -> _ProbeHook:
    set_connection(CONN_ID, BASE_URL, TOKEN)
    return _ProbeHook(conn_id=CONN_ID)


class TestConnectionSettings:
    def test_full_url_host(self, set_connection):
        set_connection(CONN_ID, "http://127.0.0.1:8081/rehearsal/ftt/prod/", TOKEN, extra={"timeout": 3})
        settings = _ProbeHook(conn_id=CONN_ID).settings
        assert settings.base_url == "http://127.0.0.1:8081/rehearsal/ftt/prod"
        assert settings.url_for("/status") == "http://127.0.0.1:8081/rehearsal/ftt/prod/status"
        assert settings.timeout == 3.0
        assert settings.token == TOKEN

    def test_host_port_and_base_path(self, set_connection):
        set_connection(CONN_ID, "127.0.0.1", TOKEN, port=8081, schema="https", extra={"base_path": "/rehearsal/ota"})
        assert _ProbeHook(conn_id=CONN_ID).settings.base_url == "https://127.0.0.1:8081/rehearsal/ota"

    def test_defaults_when_extra_is_empty(self, monkeypatch):
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", '{"conn_type": "http", "host": "http://127.0.0.1:9"}')
        settings = _ProbeHook(conn_id=CONN_ID).settings
        assert settings.timeout == 10.0
        assert settings.max_retries == 4
        assert settings.backoff_base == 0.5
        assert settings.backoff_max == 10.0
        assert settings.token == ""

    def test_token_not_in_repr(self, hook):
        assert TOKEN not in repr(hook.settings)

    @pytest.mark.parametrize(
        ("fields", "bad_field"),
        [
            ({"host": None}, "host"),
            ({"host": "ftp://127.0.0.1/x"}, "host"),
            ({"host": "http://127.0.0.1/x", "port": 8081}, "port"),
            ({"host": "127.0.0.1", "schema": "postgres"}, "schema"),
            ({"extra": {"timeout": "soon"}}, "extra.timeout"),
            ({"extra": {"timeout": 0}}, "extra.timeout"),
            ({"extra": {"max_retries": -1}}, "extra.max_retries"),
            ({"extra": {"max_retries": 1.5}}, "extra.max_retries"),
            ({"extra": {"backoff_base": -0.1}}, "extra.backoff_base"),
        ],
    )
    def test_invalid_field_rejected(self, set_connection, fields, bad_field):
        host = fields.pop("host", BASE_URL)
        set_connection(CONN_ID, host, TOKEN, **fields)
        with pytest.raises(ConnectionConfigError) as excinfo:
            _ProbeHook(conn_id=CONN_ID).settings
        assert excinfo.value.field == bad_field
        assert CONN_ID in str(excinfo.value)

    def test_retry_delay_exponential_and_capped(self):
        settings = ConnectionSettings(
            conn_id="x",
            base_url=BASE_URL,
            token="",
            timeout=1,
            max_retries=6,
            backoff_base=0.5,
            backoff_max=10,
            extra={},
        )
        assert [settings.retry_delay(n, None) for n in range(1, 7)] == [0.5, 1, 2, 4, 8, 10]
        assert settings.retry_delay(1, 3) == 3
        assert settings.retry_delay(1, 120) == 10


class TestRequestJson:
    def test_success_sends_bearer_and_timeout(self, hook, requests_mock):
        requests_mock.get(f"{BASE_URL}/status", json={"version": "4.2.0"})
        assert hook.request_json("GET", "/status", params={"a": "1"}) == {"version": "4.2.0"}
        sent = requests_mock.last_request
        assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
        assert sent.timeout == 2
        assert sent.qs == {"a": ["1"]}

    def test_no_authorization_header_without_password(self, set_connection, requests_mock):
        set_connection(CONN_ID, BASE_URL, None)
        requests_mock.get(f"{BASE_URL}/status", json={})
        _ProbeHook(conn_id=CONN_ID).request_json("GET", "/status")
        assert "Authorization" not in requests_mock.last_request.headers

    def test_json_body_sent(self, hook, requests_mock):
        requests_mock.put(f"{BASE_URL}/rules/a/b", json={"ok": True})
        hook.request_json("PUT", "/rules/a/b", json={"min_version": "4.4.9"})
        assert requests_mock.last_request.json() == {"min_version": "4.4.9"}

    def test_retries_5xx_then_succeeds(self, hook, requests_mock, recorded_sleeps):
        requests_mock.get(
            f"{BASE_URL}/status",
            [{"status_code": 503, "json": {"detail": "busy"}}, {"status_code": 502, "text": "bad gateway"}, {"json": {"ok": 1}}],
        )
        assert hook.request_json("GET", "/status") == {"ok": 1}
        assert requests_mock.call_count == 3
        assert recorded_sleeps == [0.01, 0.02]

    def test_gives_up_after_max_retries(self, hook, requests_mock, recorded_sleeps):
        requests_mock.get(f"{BASE_URL}/status", status_code=503, json={"detail": "down for upgrade"})
        with pytest.raises(CutoverHttpError) as excinfo:
            hook.request_json("GET", "/status")
        error = excinfo.value
        assert requests_mock.call_count == 3
        assert len(recorded_sleeps) == 2
        assert error.status == 503
        assert error.system == "probe"
        assert error.url_path == "/api/status"
        assert "GET /api/status" in str(error)
        assert "503" in str(error)
        assert "down for upgrade" in str(error)

    def test_429_honours_retry_after(self, hook, requests_mock, recorded_sleeps):
        requests_mock.get(
            f"{BASE_URL}/status",
            [{"status_code": 429, "headers": {"Retry-After": "0.03"}, "json": {}}, {"json": {"ok": True}}],
        )
        assert hook.request_json("GET", "/status") == {"ok": True}
        assert recorded_sleeps == [0.03]

    def test_retry_after_capped_by_backoff_max(self, hook, requests_mock, recorded_sleeps):
        requests_mock.get(
            f"{BASE_URL}/status",
            [{"status_code": 429, "headers": {"Retry-After": "3600"}, "json": {}}, {"json": {}}],
        )
        hook.request_json("GET", "/status")
        assert recorded_sleeps == [0.05]

    @pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
    def test_4xx_not_retried(self, hook, requests_mock, recorded_sleeps, status):
        requests_mock.post(f"{BASE_URL}/reclaim", status_code=status, json={"detail": "nope"})
        with pytest.raises(CutoverHttpError) as excinfo:
            hook.request_json("POST", "/reclaim")
        assert excinfo.value.status == status
        assert not excinfo.value.transient
        assert requests_mock.call_count == 1
        assert recorded_sleeps == []

    @pytest.mark.parametrize("error", [requests.ConnectionError("refused"), requests.ReadTimeout("read timed out")])
    def test_transport_errors_retried_then_unreachable(self, hook, requests_mock, recorded_sleeps, error):
        requests_mock.get(f"{BASE_URL}/status", exc=error)
        with pytest.raises(SystemUnreachableError) as excinfo:
            hook.request_json("GET", "/status")
        assert excinfo.value.status is None
        assert excinfo.value.transient
        assert requests_mock.call_count == 3
        assert "no response" in str(excinfo.value)

    def test_transport_error_then_success(self, hook, requests_mock, recorded_sleeps):
        requests_mock.get(f"{BASE_URL}/status", [{"exc": requests.ConnectTimeout("slow")}, {"json": {"ok": True}}])
        assert hook.request_json("GET", "/status") == {"ok": True}
        assert recorded_sleeps == [0.01]

    def test_malformed_body_not_retried(self, hook, requests_mock, recorded_sleeps):
        requests_mock.get(f"{BASE_URL}/status", text="<html>oops</html>")
        with pytest.raises(MalformedResponseError) as excinfo:
            hook.request_json("GET", "/status")
        assert excinfo.value.status == 200
        assert "oops" in str(excinfo.value)
        assert requests_mock.call_count == 1

    def test_json_array_is_malformed(self, hook, requests_mock):
        requests_mock.get(f"{BASE_URL}/status", json=[1, 2])
        with pytest.raises(MalformedResponseError, match="expected a JSON object"):
            hook.request_json("GET", "/status")

    def test_204_returns_empty_dict(self, hook, requests_mock):
        requests_mock.delete(f"{BASE_URL}/thing", status_code=204)
        assert hook.request_json("DELETE", "/thing") == {}

    def test_token_redacted_from_error_and_logs(self, hook, requests_mock, recorded_sleeps):
        echo = {"detail": f"token {TOKEN} is invalid"}
        requests_mock.get(f"{BASE_URL}/status", [{"status_code": 500, "json": echo}, {"status_code": 401, "json": echo}])
        with capture_logs() as logs, pytest.raises(CutoverHttpError) as excinfo:
            hook.request_json("GET", "/status")
        assert excinfo.value.status == 401
        assert TOKEN not in str(excinfo.value)
        assert "***" in str(excinfo.value)
        assert logs
        assert all(TOKEN not in str(entry) for entry in logs)

    def test_retry_logged_as_warning_with_attempt(self, hook, requests_mock, recorded_sleeps):
        requests_mock.get(f"{BASE_URL}/status", [{"status_code": 503, "json": {}}, {"json": {}}])
        with capture_logs() as logs:
            hook.request_json("GET", "/status")
        warnings = [entry for entry in logs if entry["log_level"] == "warning"]
        assert len(warnings) == 1
        assert "attempt=1/3" in warnings[0]["event"]

    def test_session_reused_across_requests(self, hook, requests_mock):
        requests_mock.get(f"{BASE_URL}/status", json={})
        hook.request_json("GET", "/status")
        first = hook.get_conn()
        hook.request_json("GET", "/status")
        assert hook.get_conn() is first

    def test_extra_keys_never_become_headers(self, set_connection, requests_mock):
        set_connection(CONN_ID, BASE_URL, TOKEN, extra={"secret": "SECdonotsend"})
        requests_mock.get(f"{BASE_URL}/status", json={})
        _ProbeHook(conn_id=CONN_ID).request_json("GET", "/status")
        headers = requests_mock.last_request.headers
        assert "secret" not in {name.lower() for name in headers}
        assert all("SECdonotsend" not in value for value in headers.values())


class TestConnectionTest:
    def test_success(self, hook, requests_mock):
        requests_mock.get(f"{BASE_URL}/status", json={"version": "4.2.0"})
        ok, message = hook.test_connection()
        assert ok is True
        assert "/status" in message

    def test_failure_reports_status(self, hook, requests_mock):
        requests_mock.get(f"{BASE_URL}/status", status_code=401, json={"detail": "bad token"})
        ok, message = hook.test_connection()
        assert ok is False
        assert "401" in message

    def test_hook_without_test_endpoint(self, set_connection):
        set_connection(CONN_ID, BASE_URL, TOKEN)
        ok, message = CutoverHttpHook(conn_id=CONN_ID).test_connection()
        assert ok is False
        assert "not supported" in message
