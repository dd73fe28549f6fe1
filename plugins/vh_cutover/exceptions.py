"""Exceptions raised by the cutover package."""

from __future__ import annotations


class CutoverError(Exception):
    """Base class of every error raised by the cutover package."""


class PlanConfigError(CutoverError):
    """Raised when the plan or contacts configuration is missing or invalid; names the file."""


class CutoverParamsError(CutoverError):
    """Raised when run parameters are invalid; the message names the field and the expected form."""


class CutoverStepError(CutoverError):
    """Raised when a cutover step cannot reach its target state; the message is for the step's owners."""


class ConnectionConfigError(CutoverError, ValueError):
    """Raised when an Airflow connection of an outside system has a missing or invalid field."""

    def __init__(self, conn_id: str, field: str, problem: str) -> None:
        self.conn_id = conn_id
        self.field = field
        super().__init__(f"connection {conn_id!r}: field {field!r} {problem}")


class CutoverHttpError(CutoverError):
    """
    Raised when an outside system responds with a non-2xx status, after the retries allowed for 429 and 5xx.

    :param system: short id of the outside system, e.g. ``ftt_prod``.
    :param method: HTTP method of the failed request.
    :param url_path: URL path of the request, without query string.
    :param status: HTTP status code, or ``None`` when no response arrived at all.
    :param detail: short, redacted explanation taken from the response or the transport error.
    """

    def __init__(self, system: str, method: str, url_path: str, status: int | None, detail: str) -> None:
        self.system = system
        self.method = method
        self.url_path = url_path
        self.status = status
        self.detail = detail
        status_text = "no response" if status is None else f"HTTP {status}"
        super().__init__(f"{system}: {method} {url_path} failed with {status_text}: {detail}")

    @property
    def transient(self) -> bool:
        """Whether a later attempt may succeed: no response, HTTP 429 or a 5xx status."""
        return self.status is None or self.status == 429 or self.status >= 500


class SystemUnreachableError(CutoverHttpError):
    """Raised when no response arrived (connection error or timeout) after every allowed retry."""

    def __init__(self, system: str, method: str, url_path: str, detail: str) -> None:
        super().__init__(system, method, url_path, None, detail)


class MalformedResponseError(CutoverError):
    """
    Raised when a 2xx response body is not a JSON object or lacks a field that the contract promises.

    ``status`` is ``None`` when the body was decoded earlier and a field check failed later.
    """

    def __init__(self, system: str, method: str, url_path: str, status: int | None, detail: str) -> None:
        self.system = system
        self.method = method
        self.url_path = url_path
        self.status = status
        self.detail = detail
        status_text = "" if status is None else f" HTTP {status}"
        super().__init__(f"{system}: {method} {url_path} returned a malformed{status_text} body: {detail}")


class FleetPagingError(CutoverError):
    """Raised when the device fleet's pages disagree with each other or with the reported total."""


class ChatDeliveryError(CutoverError):
    """Raised when the chat robot returns a non-zero ``errcode``."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        self.errcode = errcode
        self.errmsg = errmsg
        super().__init__(f"chat robot rejected the message: errcode={errcode} errmsg={errmsg}")


class RehearsalStateError(CutoverError):
    """Raised when the rehearsal stand-ins cannot open or create their SQLite state file; names the path."""
