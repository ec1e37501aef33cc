"""Route modules, one per resource; each maps requests to the service and domain results to response schemas."""
