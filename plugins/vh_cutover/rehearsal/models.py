"""Field types and error helpers shared by the stand-in routers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator

from vh_cutover.rehearsal.catalog import CLIENT_IDS, MODULE_IDS, parse_version


def _check_version(value: str) -> str:
    parse_version(value)
    return value


Version = Annotated[str, AfterValidator(_check_version)]


def invalid_field(loc: tuple[str | int, ...], message: str, value: Any) -> RequestValidationError:
    """Build a 422 error in FastAPI's own shape for a check that a model cannot express."""
    return RequestValidationError([{"type": "value_error", "loc": loc, "msg": message, "input": value}])


def require_client(client: str) -> None:
    """Raise 404 unless ``client`` is a known client id."""
    if client not in CLIENT_IDS:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"client {client!r} not found; known clients: {', '.join(CLIENT_IDS)}",
        )


def require_module(module: str) -> None:
    """Raise 404 unless ``module`` is a known module id."""
    if module not in MODULE_IDS:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"module {module!r} not found; known modules: {', '.join(MODULE_IDS)}",
        )
