"""The FastAPI application: `create_app()` loads the configured model and index once, at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from deflect.serving.errors import install_error_handlers
from deflect.serving.routes import health, suggest
from deflect.serving.suggester import Suggester
from fastapi import FastAPI

import deflect
from deflect.settings import Settings, get_settings


def create_app(settings: Settings | None = None, suggester: Suggester | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "suggester", None) is None:
            app.state.suggester = Suggester.load(settings)
        yield

    app = FastAPI(
        title="Deflect",
        version=deflect.__version__,
        description="Intent detection, help-center article suggestions and calibrated handoff for support chat.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.suggester = suggester
    install_error_handlers(app)
    app.include_router(suggest.router)
    app.include_router(health.router)
    return app
