"""Recording admin changes in the audit trail: the admin key a route was called with is the actor (`local` with
authentication turned off). The key dependency is shared with the admin routers, so a request is authenticated and
counted against its key's limit once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from deflect.api.auth import ApiKey, Scope
from deflect.api.deps import require
from deflect.conversation.service import SuggestService
from deflect.store.queue_items import Reviewer

admin_key = require(Scope.ADMIN)
AdminKey = Annotated[ApiKey | None, Depends(admin_key)]


def record(
    service: SuggestService, key: ApiKey | None, action: str, target: str, details: dict[str, Any] | None = None
) -> None:
    if service.audit is None:
        return
    actor = Reviewer("local", "local") if key is None else Reviewer(key.name, key.id)
    service.audit.record(actor, action, target, details)
