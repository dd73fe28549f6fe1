"""
HTTP transport shared by every outside-system hook: connection settings, retries and JSON decoding.

Each outside system has an Airflow connection of type ``http``. Its ``host`` is a full base URL
(``http://127.0.0.1:8080/rehearsal/ftt/prod``), or a bare host name combined with ``schema``,
``port`` and the extra field ``base_path``. The password is the bearer token. The extra field may
set ``timeout`` (seconds, default 10), ``max_retries`` (default 4), ``backoff_base`` (seconds,
default 0.5) and ``backoff_max`` (seconds, default 10).

``CutoverHttpHook`` is the synchronous hook used by operators. ``AsyncCutoverHttpClient`` applies
the same retry policy with ``await asyncio.sleep`` and is what triggers use in the triggerer.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import httpx
import requests

from airflow.providers.http.hooks.http import HttpHook
from airflow.sdk import BaseHook
from airflow.utils.log.logging_mixin import LoggingMixin

from vh_cutover.exceptions import (
    ConnectionConfigError,
    CutoverHttpError,
    MalformedResponseError,
    SystemUnreachableError,
)

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_BACKOFF_BASE = 0.5
DEFAULT_BACKOFF_MAX = 10.0

# Maximum length of the response body or transport error excerpt kept in an exception message.
_DETAIL_MAX_CHARS = 300
_REDACTED = "***"

# Module-level indirection so tests can replace the waits between retries with a recorder.
_sleep = time.sleep
_async_sleep = asyncio.sleep


def _is_retryable_status(status: int) -> bool:
    return status == 429 or status >= 500


def _parse_retry_after(value: str | None) -> float | None:
    """Return the delay of a ``Retry-After`` header given in seconds, or ``None`` if absent or a date."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
            # Transport errors quote the URL, where a secret in the query string is percent-encoded.
            text = text.replace(quote(secret, safe=""), _REDACTED)
    return text


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _DETAIL_MAX_CHARS:
        return text[:_DETAIL_MAX_CHARS] + "..."
    return text


def _error_detail(body: str) -> str:
    """Return the ``detail`` field of a JSON error body, or else the start of the raw body."""
    try:
        document = json.loads(body)
    except ValueError:
        return body or "empty body"
    if isinstance(document, dict) and "detail" in document:
        return str(document["detail"])
    return body


def _read_float(conn_id: str, extra: Mapping[str, Any], key: str, default: float) -> float:
    raw = extra.get(key, default)
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConnectionConfigError(conn_id, f"extra.{key}", f"must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ConnectionConfigError(conn_id, f"extra.{key}", f"must be zero or more seconds, got {raw!r}")
    return value


def _read_retries(conn_id: str, extra: Mapping[str, Any]) -> int:
    raw = extra.get("max_retries", DEFAULT_MAX_RETRIES)
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise ConnectionConfigError(conn_id, "extra.max_retries", f"must be an integer, got {raw!r}")
    try:
        value = int(raw)
    except ValueError:
        raise ConnectionConfigError(conn_id, "extra.max_retries", f"must be an integer, got {raw!r}") from None
    if value < 0:
        raise ConnectionConfigError(conn_id, "extra.max_retries", f"must be zero or more, got {raw!r}")
    return value


def _build_base_url(conn_id: str, host: str | None, schema: str | None, port: int | None, base_path: str) -> str:
    if not host:
        raise ConnectionConfigError(conn_id, "host", "is missing: set it to the system's base URL")

    if "://" in host:
        if port:
            raise ConnectionConfigError(
                conn_id, "port", f"must be empty when host is a full URL, got {port!r}: put the port in the URL"
            )
        base_url = host
    else:
        scheme = schema or "http"
        if scheme not in ("http", "https"):
            raise ConnectionConfigError(conn_id, "schema", f"must be http or https, got {schema!r}")
        base_url = f"{scheme}://{host}" + (f":{port}" if port else "")

    if base_path:
        base_url = base_url.rstrip("/") + "/" + base_path.strip("/")

    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConnectionConfigError(conn_id, "host", f"is not an http(s) URL: {host!r}")
    return base_url.rstrip("/")


@dataclass(frozen=True)
class ConnectionSettings:
    """Transport settings read from one Airflow connection, shared by the sync hook and the async client."""

    conn_id: str
    base_url: str
    token: str = field(repr=False)
    timeout: float
    max_retries: int
    backoff_base: float
    backoff_max: float
    extra: Mapping[str, Any] = field(repr=False)

    @classmethod
    def from_connection(cls, conn: Any, extra: Mapping[str, Any]) -> ConnectionSettings:
        """
        Validate a connection and build its settings.

        :param conn: an Airflow connection of type ``http``.
        :param extra: the connection's extra field, already parsed (sync and async code parse it differently).
        :raises ConnectionConfigError: when a field is missing or invalid; the message names it.
        """
        conn_id = conn.conn_id
        base_path = extra.get("base_path") or ""
        if not isinstance(base_path, str):
            raise ConnectionConfigError(conn_id, "extra.base_path", f"must be a string, got {base_path!r}")

        timeout = _read_float(conn_id, extra, "timeout", DEFAULT_TIMEOUT)
        if timeout == 0:
            raise ConnectionConfigError(conn_id, "extra.timeout", "must be more than zero seconds, got 0")

        return cls(
            conn_id=conn_id,
            base_url=_build_base_url(conn_id, conn.host, conn.schema, conn.port, base_path),
            token=conn.password or "",
            timeout=timeout,
            max_retries=_read_retries(conn_id, extra),
            backoff_base=_read_float(conn_id, extra, "backoff_base", DEFAULT_BACKOFF_BASE),
            backoff_max=_read_float(conn_id, extra, "backoff_max", DEFAULT_BACKOFF_MAX),
            extra=dict(extra),
        )

    def url_for(self, endpoint: str) -> str:
        """Join the base URL and an endpoint path such as ``/status``."""
        return f"{self.base_url}/{endpoint.lstrip('/')}"

    def retry_delay(self, retry_number: int, retry_after: float | None) -> float:
        """
        Return the seconds to wait before retry ``retry_number`` (1 for the first retry).

        A ``Retry-After`` value from the server wins over the exponential backoff. Both are capped
        at ``backoff_max`` so a server cannot stall a task for longer than the connection allows.
        """
        if retry_after is not None:
            return min(retry_after, self.backoff_max)
        return min(self.backoff_base * 2 ** (retry_number - 1), self.backoff_max)


@dataclass(frozen=True)
class _FailedAttempt:
    status: int | None
    detail: str
    retry_after: float | None = None


class _RequestContext:
    """One logical request: what to send, how to describe it in errors, and how to decode the result."""

    def __init__(
        self, system: str, settings: ConnectionSettings, method: str, endpoint: str, secrets: tuple[str, ...]
    ) -> None:
        self.system = system
        self.settings = settings
        self.method = method.upper()
        self.url = settings.url_for(endpoint)
        self.url_path = urlsplit(self.url).path
        self.secrets = secrets

    @property
    def attempts(self) -> int:
        return self.settings.max_retries + 1

    def transport_failure(self, error: Exception) -> _FailedAttempt:
        detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return _FailedAttempt(status=None, detail=_shorten(_redact(detail, self.secrets)))

    def status_failure(self, status: int, body: str, retry_after_header: str | None) -> _FailedAttempt:
        detail = _shorten(_redact(_error_detail(body), self.secrets))
        return _FailedAttempt(status=status, detail=detail, retry_after=_parse_retry_after(retry_after_header))

    def retry_delay(self, attempt: int, failure: _FailedAttempt) -> float | None:
        """Return the seconds to wait before the next attempt, or ``None`` when no attempt is left."""
        if attempt >= self.attempts:
            return None
        return self.settings.retry_delay(attempt, failure.retry_after)

    def log_retry(self, log: Any, attempt: int, failure: _FailedAttempt, delay: float) -> None:
        log.warning(
            "http retry system=%s method=%s path=%s attempt=%d/%d status=%s delay=%.3fs detail=%s",
            self.system,
            self.method,
            self.url_path,
            attempt,
            self.attempts,
            failure.status,
            delay,
            failure.detail,
        )

    def final_error(self, failure: _FailedAttempt) -> CutoverHttpError:
        if failure.status is None:
            return SystemUnreachableError(self.system, self.method, self.url_path, failure.detail)
        return CutoverHttpError(self.system, self.method, self.url_path, failure.status, failure.detail)

    def decode(self, status: int, body: str) -> dict[str, Any]:
        if status == 204:
            return {}
        try:
            document = json.loads(body)
        except ValueError:
            excerpt = _shorten(_redact(body, self.secrets)) or "empty body"
            raise MalformedResponseError(
                self.system, self.method, self.url_path, status, f"body is not JSON: {excerpt!r}"
            ) from None
        if not isinstance(document, dict):
            raise MalformedResponseError(
                self.system,
                self.method,
                self.url_path,
                status,
                f"expected a JSON object, got {type(document).__name__}",
            )
        return document


def require_field(
    payload: Mapping[str, Any],
    key: str,
    kinds: tuple[type, ...],
    *,
    system: str,
    method: str,
    endpoint: str,
) -> Any:
    """
    Return ``payload[key]`` after checking that its type is one of ``kinds``.

    ``bool`` passes only when listed, although Python treats it as a subclass of ``int``.

    :param system: short id of the outside system, for the error message.
    :param method: HTTP method of the request that returned the payload.
    :param endpoint: endpoint of that request.
    :raises MalformedResponseError: when the field is missing or has another type.
    """
    value = payload.get(key)
    is_unwanted_bool = isinstance(value, bool) and bool not in kinds
    if key not in payload or not isinstance(value, kinds) or is_unwanted_bool:
        raise MalformedResponseError(
            system, method, endpoint, None, f"field {key!r} is missing or has the wrong type: {value!r}"
        )
    return value


def require_text(name: str, value: str) -> str:
    """Return ``value`` if it is a non-empty string, else raise ``ValueError`` naming the argument."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def path_segment(value: str) -> str:
    """Percent-encode one URL path segment, so a client or module id cannot change the path."""
    return quote(value, safe="")


class CutoverHttpHook(HttpHook):
    """
    Base hook for one outside system of the cutover, reached over HTTP with JSON bodies.

    Subclasses set ``system``, ``conn_name_attr``, ``default_conn_name``, ``hook_name`` and
    ``test_endpoint``, and add the system's domain verbs on top of :meth:`request_json`.

    :param conn_id: id of the Airflow connection of type ``http`` that points at the system.
    """

    conn_type = "http"
    hook_name = "Cutover HTTP system"
    system: ClassVar[str] = "http"
    #: GET endpoint used by the connection test button. ``None`` disables the test.
    test_endpoint: ClassVar[str | None] = None
    #: Whether the connection password is sent as ``Authorization: Bearer <password>``.
    bearer_auth: ClassVar[bool] = True

    def __init__(self, conn_id: str) -> None:
        super().__init__(method="GET", http_conn_id=conn_id)
        self._settings: ConnectionSettings | None = None
        self._session: requests.Session | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel the connection form fields for a bearer-token JSON API."""
        return {
            "hidden_fields": ["login"],
            "relabeling": {"host": "Base URL", "password": "Bearer token"},
            "placeholders": {
                "host": "http://127.0.0.1:8080/rehearsal/ftt/prod",
                "extra": '{"timeout": 10, "max_retries": 4, "backoff_base": 0.5, "backoff_max": 10}',
            },
        }

    @property
    def settings(self) -> ConnectionSettings:
        """Settings of the hook's connection, read from Airflow once per hook instance."""
        if self._settings is None:
            conn = self.get_connection(self.http_conn_id)
            self._settings = ConnectionSettings.from_connection(conn, conn.extra_dejson)
        return self._settings

    def _secrets(self) -> tuple[str, ...]:
        return (self.settings.token,)

    def _auth_headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.bearer_auth and self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        return headers

    def get_conn(
        self, headers: dict[Any, Any] | None = None, extra_options: dict[str, Any] | None = None
    ) -> requests.Session:
        """
        Return a ``requests`` session with the bearer token and JSON headers set.

        Unlike ``HttpHook.get_conn``, the connection's extra keys never become request headers,
        because the extra field here contains retry settings and, for the chat robot, a signing secret.
        ``extra_options`` is accepted for signature compatibility and ignored.
        """
        if self._session is None:
            session = requests.Session()
            session.headers.update(self._auth_headers())
            adapter = self.adapter or self.keep_alive_adapter
            if adapter is not None:
                session.mount("http://", adapter)
                session.mount("https://", adapter)
            self._session = session
        if headers:
            self._session.headers.update(headers)
        return self._session

    def test_connection(self) -> tuple[bool, str]:
        """Send one GET to ``test_endpoint`` and report whether it returned a JSON object."""
        if self.test_endpoint is None:
            return False, f"connection test is not supported for {self.system}: every request has side effects"
        try:
            self.request_json("GET", self.test_endpoint)
        except (CutoverHttpError, MalformedResponseError, ConnectionConfigError) as error:
            return False, str(error)
        return True, f"{self.system}: GET {self.test_endpoint} returned a JSON object"

    def request_json(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        """
        Send one request and return the decoded JSON object.

        Connection errors, timeouts, HTTP 429 and 5xx are retried up to ``max_retries`` times.
        The wait is exponential backoff, or the server's ``Retry-After`` seconds when it sends them.
        Other 4xx statuses fail at once. A POST that timed out after it was sent may reach the
        server more than once, so write endpoints must be idempotent (idempotency keys, PUT).

        :param method: HTTP method, e.g. ``GET``.
        :param endpoint: path relative to the connection's base URL, e.g. ``/status``.
        :param params: query parameters.
        :param json: JSON request body.
        :raises CutoverHttpError: non-2xx status after the last attempt.
        :raises SystemUnreachableError: no response after the last attempt.
        :raises MalformedResponseError: the 2xx body is not a JSON object.
        """
        context = _RequestContext(self.system, self.settings, method, endpoint, self._secrets())
        session = self.get_conn()

        attempt = 0
        while True:
            attempt += 1
            try:
                response = session.request(
                    context.method, context.url, params=params, json=json, timeout=context.settings.timeout
                )
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as error:
                failure = context.transport_failure(error)
            else:
                if 200 <= response.status_code < 300:
                    return context.decode(response.status_code, response.text)
                failure = context.status_failure(
                    response.status_code, response.text, response.headers.get("Retry-After")
                )
                if not _is_retryable_status(response.status_code):
                    raise context.final_error(failure)

            delay = context.retry_delay(attempt, failure)
            if delay is None:
                raise context.final_error(failure)
            context.log_retry(self.log, attempt, failure, delay)
            _sleep(delay)


class AsyncCutoverHttpClient(LoggingMixin):
    """
    Async counterpart of :class:`CutoverHttpHook` for triggers: same connection, same retry policy.

    The connection is read with ``BaseHook.aget_connection`` and ``Connection.aextra_dejson``,
    which mask secrets with an async call. The sync ``extra_dejson`` would block on the supervisor
    and can raise ``DeadlockImminentError`` inside the triggerer (Airflow 3.3.2 task SDK).

    A new ``httpx.AsyncClient`` serves each request. Triggers poll every few seconds at most, so
    pooling gains little, and no client outlives a cancelled trigger.

    :param conn_id: id of the Airflow connection of type ``http``.
    :param system: short id of the outside system, used in logs and errors.
    :param bearer_auth: whether to send the connection password as a bearer token.
    """

    def __init__(self, conn_id: str, *, system: str, bearer_auth: bool = True) -> None:
        super().__init__()
        self.conn_id = conn_id
        self.system = system
        self.bearer_auth = bearer_auth
        self._settings: ConnectionSettings | None = None

    async def get_settings(self) -> ConnectionSettings:
        """Return the connection's settings, read from Airflow on the first call."""
        if self._settings is None:
            conn = await BaseHook.aget_connection(self.conn_id)
            extra = await conn.aextra_dejson()
            self._settings = ConnectionSettings.from_connection(conn, extra)
        return self._settings

    async def request_json(
        self,
        method: str,
        endpoint: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> dict[str, Any]:
        """Send one request and return the decoded JSON object, as :meth:`CutoverHttpHook.request_json` does."""
        settings = await self.get_settings()
        headers = {"Accept": "application/json"}
        if self.bearer_auth and settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
        context = _RequestContext(self.system, settings, method, endpoint, (settings.token,))

        attempt = 0
        while True:
            attempt += 1
            try:
                async with httpx.AsyncClient(timeout=settings.timeout, headers=headers) as client:
                    response = await client.request(context.method, context.url, params=params, json=json)
            except httpx.TransportError as error:
                failure = context.transport_failure(error)
            else:
                if 200 <= response.status_code < 300:
                    return context.decode(response.status_code, response.text)
                failure = context.status_failure(
                    response.status_code, response.text, response.headers.get("Retry-After")
                )
                if not _is_retryable_status(response.status_code):
                    raise context.final_error(failure)

            delay = context.retry_delay(attempt, failure)
            if delay is None:
                raise context.final_error(failure)
            context.log_retry(self.log, attempt, failure, delay)
            await _async_sleep(delay)
