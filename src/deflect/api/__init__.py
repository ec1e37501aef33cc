"""The HTTP layer: the FastAPI app, its dependencies, API keys, limits, request and response schemas, routes, the
handoff webhook and the static pages (review page, widget)."""
