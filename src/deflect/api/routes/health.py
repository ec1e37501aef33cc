from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from deflect.api.schemas import HealthResponse, ReadinessResponse

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse)
def healthz() -> HealthResponse:
    """Liveness: the process answers."""
    return HealthResponse(status="ok")


@router.get("/readyz", response_model=ReadinessResponse, responses={503: {"model": ReadinessResponse}})
def readyz(request: Request) -> Response:
    """Readiness: a model and an index are loaded and the conversation store answers."""
    service = getattr(request.app.state, "service", None)
    settings = request.app.state.settings
    checks = {"model": service is not None, "conversation_store": service is not None and service.store.ping()}
    body = ReadinessResponse(
        status="ready" if all(checks.values()) else "not_ready",
        model_version=service.suggester.model.version if service else None,
        index_version=service.suggester.index.version if service else None,
        conversation_store="redis" if settings.redis_url else "memory",
        checks=checks,
    )
    return JSONResponse(body.model_dump(), status_code=200 if body.status == "ready" else 503)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    service = getattr(request.app.state, "service", None)
    payload = service.metrics.render() if service else b""
    return Response(payload, media_type="text/plain; version=0.0.4; charset=utf-8")
