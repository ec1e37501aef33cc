"""What routes receive through FastAPI dependencies."""

from __future__ import annotations

from deflect.serving.suggester import Suggester
from fastapi import Request


def get_suggester(request: Request) -> Suggester:
    return request.app.state.suggester
