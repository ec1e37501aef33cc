"""The FastAPI service: loads a model artifact and an article index, answers suggestion requests."""
