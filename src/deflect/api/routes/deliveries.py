"""Admin routes over the outbox (admin keys only): what waits to be delivered, what was dead-lettered, and sending
one again or never."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel

from deflect.api.audit import AdminKey, admin_key, record
from deflect.api.auth import ApiKey
from deflect.api.deps import get_service
from deflect.api.schemas import IDENTIFIER, ErrorResponse
from deflect.conversation.service import SuggestService
from deflect.store.outbox import DeliveryStateError, DeliveryView, Outbox

ERRORS: dict[int | str, dict[str, Any]] = {status: {"model": ErrorResponse} for status in (401, 403, 404, 409, 422)}
router = APIRouter(prefix="/admin/deliveries", tags=["admin"], responses=ERRORS, dependencies=[Depends(admin_key)])
Service = Annotated[SuggestService, Depends(get_service)]
DeliveryId = Annotated[str, Path(pattern=IDENTIFIER)]


class DeliveryOut(BaseModel):
    id: str  # the delivery id the receiver sees on every attempt
    topic: str
    target: str
    conversation_id: str
    status: Literal["pending", "delivered", "dead", "discarded"]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None
    finished_at: datetime | None


def _outbox(service: SuggestService) -> Outbox:
    if service.events is None:
        raise HTTPException(503, "no event database is configured")
    return Outbox(service.events)


def _out(view: DeliveryView) -> DeliveryOut:
    return DeliveryOut.model_validate(view, from_attributes=True)


@router.get("", response_model=list[DeliveryOut])
def list_deliveries(
    service: Service,
    status: Annotated[Literal["pending", "delivered", "dead", "discarded"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    """Outbox deliveries, newest first: `status=pending` waits (or is being retried), `dead` was given up after the
    last attempt or a final answer from the receiver."""
    return [_out(view) for view in _outbox(service).list(status, limit)]


@router.post("/{delivery_id}/retry", response_model=DeliveryOut)
def retry_delivery(delivery_id: DeliveryId, service: Service, key: AdminKey) -> DeliveryOut:
    """Send a dead-lettered or discarded delivery again now, under the same delivery id, with fresh attempts."""
    view = _change(service, key, delivery_id, "retry")
    if service.on_queued is not None:
        service.on_queued()
    return view


@router.delete("/{delivery_id}", response_model=DeliveryOut)
def discard_delivery(delivery_id: DeliveryId, service: Service, key: AdminKey) -> DeliveryOut:
    """Never send this pending or dead-lettered delivery; it stays listed as discarded."""
    return _change(service, key, delivery_id, "discard")


def _change(service: SuggestService, key: ApiKey | None, delivery_id: str, action: str) -> DeliveryOut:
    outbox = _outbox(service)
    try:
        view = outbox.retry(delivery_id) if action == "retry" else outbox.discard(delivery_id)
    except LookupError as error:
        raise HTTPException(404, str(error)) from None
    except DeliveryStateError as error:
        raise HTTPException(409, str(error)) from None
    record(service, key, f"delivery.{action}", f"delivery:{delivery_id}", {"topic": view.topic, "target": view.target})
    return _out(view)
