"""Every error leaves the API as JSON: `{"error": {"code", "message", "details": [{"field", "message"}]}}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, SQLAlchemyError
from starlette.exceptions import HTTPException

from deflect.api.schemas import ErrorBody, ErrorDetail, ErrorResponse

logger = logging.getLogger(__name__)


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[ErrorDetail] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(error=ErrorBody(code=code, message=message, details=details or []))
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def _field_path(location: tuple) -> str:
    return ".".join(str(part) for part in location)


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    details = [
        ErrorDetail(field=_field_path(item.get("loc", ())), message=item.get("msg", "")) for item in error.errors()
    ]
    summary = "; ".join(f"{d.field}: {d.message}" for d in details) or "invalid request"
    return error_response(422, "invalid_request", summary, details)


# What FastAPI says when a body is not text it can decode (invalid UTF-8), before any schema is checked.
_UNREADABLE_BODY = "There was an error parsing the body"


async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    if error.status_code == 400 and error.detail == _UNREADABLE_BODY:
        return error_response(400, "invalid_body", "The request body must be JSON encoded as UTF-8; nothing was done.")
    codes = {
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "payload_too_large",
        422: "invalid_request",
        429: "rate_limited",
        503: "unavailable",
    }
    code = codes.get(error.status_code, "http_error")
    return error_response(error.status_code, code, str(error.detail), headers=getattr(error, "headers", None))


async def _storage_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("event store failed on %s %s", request.method, request.url.path)
    return error_response(
        503, "storage_unavailable", "The event store could not be written, so nothing was stored; retry shortly."
    )


async def _unstorable_value(request: Request, error: Exception) -> JSONResponse:
    logger.warning(
        "the event store refused a value on %s %s: %s", request.method, request.url.path, type(error).__name__
    )
    return error_response(
        422, "invalid_request", "A value in the request cannot be stored as given; nothing was stored."
    )


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DataError, _unstorable_value)
    app.add_exception_handler(SQLAlchemyError, _storage_error)
    app.add_exception_handler(Exception, _unexpected_error)


def document_unreadable_bodies(app: FastAPI) -> None:
    """Every operation that reads a JSON body may answer 400 `invalid_body` (invalid UTF-8): say so in the OpenAPI
    document, where clients generate their error handling from."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    if isinstance(operation, dict) and "requestBody" in operation:
                        operation["responses"].setdefault(
                            "400",
                            {
                                "description": "The body is not JSON encoded as UTF-8",
                                "content": {
                                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
                                },
                            },
                        )
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]
