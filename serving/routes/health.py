from __future__ import annotations

from typing import Annotated

from deflect.serving.deps import get_suggester
from deflect.serving.schemas import HealthResponse
from deflect.serving.suggester import Suggester
from fastapi import APIRouter, Depends

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse)
def healthz(suggester: Annotated[Suggester, Depends(get_suggester)]) -> HealthResponse:
    return HealthResponse(status="ok", model_version=suggester.model.version, index_version=suggester.index.version)
