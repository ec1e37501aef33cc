"""Micro-batching: concurrent requests' texts share model calls and each gets its own result back; a batch read
in-process (the load benchmark's limit) reads each message as the server does."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from deflect.conversation.batcher import MicroBatcher
from deflect.conversation.suggester import Suggester
from deflect.core.settings import Settings
from deflect.intent.model import IntentModel
from deflect.retrieval.index import ArticleIndex

TEXTS = [f"{base} #{n}" for n in range(4) for base in ("where is my parcel", "택배가 안 와요", "refund please")]


class RecordingEncoder:
    """The demo model's real encoder, recording the size of every batch it is given."""

    def __init__(self, model: IntentModel):
        self.model = model
        self.batch_sizes: list[int] = []
        self.fail_next = False

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.batch_sizes.append(len(texts))
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("encoder exploded")
        return self.model.encode(list(texts))


def encode_concurrently(batcher: MicroBatcher, texts: list[str]) -> list[np.ndarray]:
    results: list[np.ndarray | None] = [None] * len(texts)
    start = threading.Barrier(len(texts))

    def request(i: int) -> None:
        start.wait()
        results[i] = batcher.submit(texts[i])

    threads = [threading.Thread(target=request, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [r for r in results if r is not None]


def test_concurrent_texts_share_batches_and_each_gets_its_own_vector(demo_model: IntentModel) -> None:
    encoder = RecordingEncoder(demo_model)
    batcher = MicroBatcher(encoder, max_batch=8)

    vectors = encode_concurrently(batcher, TEXTS)

    assert len(vectors) == len(TEXTS)
    assert sum(encoder.batch_sizes) == len(TEXTS) and max(encoder.batch_sizes) > 1
    assert max(encoder.batch_sizes) <= 8 and len(encoder.batch_sizes) < len(TEXTS)
    alone = demo_model.encode(TEXTS)
    assert np.allclose(np.vstack(vectors), alone, atol=1e-3)
    batcher.close()


def test_an_encoder_error_reaches_the_waiting_requests_and_batching_goes_on(demo_model: IntentModel) -> None:
    encoder = RecordingEncoder(demo_model)
    batcher = MicroBatcher(encoder)
    encoder.fail_next = True

    with pytest.raises(RuntimeError, match="encoder exploded"):
        batcher.submit("where is my parcel")
    assert batcher.submit("where is my parcel").shape == (demo_model.encoder.dim,)
    batcher.close()


def test_after_close_a_late_request_encodes_by_itself(demo_model: IntentModel) -> None:
    encoder = RecordingEncoder(demo_model)
    batcher = MicroBatcher(encoder)
    batcher.close()

    vector = batcher.submit("택배가 안 와요")

    assert np.allclose(vector, demo_model.encode(["택배가 안 와요"])[0], atol=1e-5)


def test_a_batch_read_in_process_matches_each_message_read_by_the_server_path(
    demo_model: IntentModel, demo_index: ArticleIndex, tmp_path: Path
) -> None:
    settings = Settings(analysis_cache_size=0, database_url=f"sqlite:///{tmp_path / 'events.db'}")
    suggester = Suggester(demo_model, demo_index, settings)
    texts = ["  택배가   안 와요 ", "refund please", "비밀번호를 잊어버렸어요"]

    together = suggester.analyse_batch(texts)
    alone = [suggester.analyse(text) for text in texts]
    suggester.close()

    assert [a.text for a in together] == ["택배가 안 와요", "refund please", "비밀번호를 잊어버렸어요"]
    assert [a.prediction.intent for a in together] == [a.prediction.intent for a in alone]
    assert [a.locale for a in together] == ["ko", "en", "ko"]
    assert [[h.article.id for h in a.hits][:1] for a in together] == [[h.article.id for h in a.hits][:1] for a in alone]
