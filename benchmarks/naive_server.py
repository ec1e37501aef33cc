"""The load benchmark's naive baseline: the same model and index, called once per request from a plain FastAPI
route (the original encoder, no batching, no cache, no conversation handling).

    .venv/bin/python -m benchmarks.naive_server --model models/demo --index indexes/demo --port 8100
"""

from __future__ import annotations

import argparse
import os
import threading
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, Field

from deflect.core.text import detect_locale, normalize_text
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex


class NaiveQuery(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    conversation_id: str | None = None
    locale: str | None = None


def create_naive_app(model_dir: Path, index_dir: Path) -> FastAPI:
    model = IntentModel.from_pretrained(model_dir, runtime="native")
    index = ArticleIndex.load(index_dir, encoder=model.encoder)
    lock = threading.Lock()  # the encoder is not documented as thread-safe
    app = FastAPI(title="naive baseline")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/suggest")
    def suggest(query: NaiveQuery) -> dict[str, Any]:
        text = normalize_text(query.text)
        locale = query.locale or detect_locale(text, "en")
        with lock:
            vector = model.encode([text])[0]
            prediction = model.predict_encoded([text], vector)[0]
            hits = index.search(text, vector, 3, locale=locale, intent_scores=dict(prediction.top_intents))
        return {
            "intent": prediction.intent,
            "confidence": prediction.confidence,
            "out_of_scope": prediction.out_of_scope,
            "articles": [{"id": hit.article.id, "title": hit.article.title, "url": hit.article.url} for hit in hits],
        }

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=Path("models/demo"))
    parser.add_argument("--index", type=Path, default=Path("indexes/demo"))
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    uvicorn.run(create_naive_app(args.model, args.index), host="127.0.0.1", port=args.port, log_level="info")


if __name__ == "__main__":
    main()
