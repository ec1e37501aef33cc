"""A compact stand-in for a large `tokenizers` Unigram tokenizer, for serving.

XLM-R's SentencePiece vocabulary (multilingual-e5 has 250,002 pieces) costs about 280 MB per process in `tokenizers`,
whose Unigram model keeps a trie of per-character hash maps. SentencePiece's own Viterbi over the same pieces and
scores, in its double-array trie, needs about 25 MB and gives the same ids, so `deflect optimize` writes the pieces as
a SentencePiece model beside `tokenizer.json`. What SentencePiece would do differently stays with `tokenizers`: the
original normaliser and pre-tokeniser (tiny objects, read from `tokenizer.json` without its vocabulary) prepare each
text, special tokens typed in the text are split out first as `tokenizers` does, and the post-processor's template
adds the special tokens around the pieces. The export keeps the compact form only if it reproduces `tokenizer.json`'s
ids on every checked text (`verify`)."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PIECES_FILE = "unigram.model"
PIPELINE_FILE = "tokenizer_pipeline.json"

# Texts that trip tokenizers up: whitespace runs and edges, unknown and combining characters, full-width forms,
# control characters, special tokens typed by a customer.
AWKWARD_TEXTS = (
    "",
    " ",
    "  leading spaces",
    "trailing spaces  ",
    "a  b\t\tc\nd",
    "배송 ",
    "오늘   배송\u00a0될까요?",
    "😀😀 emoji 🙏🏽",
    "nul\x00byte",
    "𝔘𝔘 fraktur",
    "CR\r\nLF",
    "㉩̑ combining",
    "ḱ̈ stacked marks",
    "ﾊﾝｶｸ Ａｂｃ １２３",
    "\u3000全角 space",
    "zero\u200bwidth",
    "<s> hi </s>",
    "x<mask>y",
    " <mask> z",
    "<pad><unk>",
)


def write_compact_tokenizer(tokenizer_file: Path, folder: Path) -> bool:
    """Writes `unigram.model` and `tokenizer_pipeline.json` into `folder` if `tokenizer_file` is a Unigram tokenizer
    this module can reproduce (Metaspace pre-tokeniser, a template post-processor); returns whether it did."""
    # generated protobuf classes, which type checkers cannot see
    model_pb2: Any = importlib.import_module("sentencepiece.sentencepiece_model_pb2")

    document = json.loads(tokenizer_file.read_text(encoding="utf-8"))
    model = document.get("model") or {}
    template = _single_template(document.get("post_processor"))
    if (
        model.get("type") != "Unigram"
        or model.get("byte_fallback")
        or (document.get("pre_tokenizer") or {}).get("type") != "Metaspace"
        or template is None
    ):
        return False
    unk_id = int(model["unk_id"])
    special_ids = {int(token["id"]) for token in document.get("added_tokens", []) if token.get("special")}
    proto = model_pb2.ModelProto()
    for piece_id, (piece, score) in enumerate(model["vocab"]):
        piece_proto = proto.pieces.add()
        piece_proto.piece = piece
        piece_proto.score = score
        if piece_id == unk_id:
            piece_proto.type = model_pb2.ModelProto.SentencePiece.UNKNOWN
        elif piece_id in special_ids:
            piece_proto.type = model_pb2.ModelProto.SentencePiece.CONTROL  # never matched inside text
    trainer = proto.trainer_spec
    trainer.model_type = model_pb2.TrainerSpec.UNIGRAM
    trainer.vocab_size = len(model["vocab"])
    trainer.unk_id, trainer.bos_id, trainer.eos_id, trainer.pad_id = unk_id, -1, -1, -1
    trainer.unk_piece = model["vocab"][unk_id][0]
    # texts arrive normalised and pre-tokenised by the original pipeline: SentencePiece only cuts them into pieces
    normalizer = proto.normalizer_spec
    normalizer.name = "identity"
    normalizer.add_dummy_prefix = False
    normalizer.remove_extra_whitespaces = False
    normalizer.escape_whitespaces = False
    (folder / PIECES_FILE).write_bytes(proto.SerializeToString())
    pipeline = {
        "normalizer": document.get("normalizer"),
        "pre_tokenizer": document["pre_tokenizer"],
        "added_tokens": [
            {key: token[key] for key in ("id", "content", "lstrip", "rstrip", "normalized")}
            for token in document.get("added_tokens", [])
        ],
        "template": template,
    }
    (folder / PIPELINE_FILE).write_text(json.dumps(pipeline, ensure_ascii=False), encoding="utf-8")
    return True


def _single_template(post_processor: dict[str, Any] | None) -> list[int | None] | None:
    """The single-sequence template as special-token ids around None (the text's pieces)."""
    if post_processor is None:
        return [None]
    if post_processor.get("type") != "TemplateProcessing":
        return None
    special = {name: entry["ids"] for name, entry in post_processor.get("special_tokens", {}).items()}
    template: list[int | None] = []
    for item in post_processor["single"]:
        if "Sequence" in item:
            template.append(None)
        else:
            ids = special.get(item["SpecialToken"]["id"])
            if ids is None or len(ids) != 1:
                return None
            template.append(int(ids[0]))
    return template if template.count(None) == 1 else None


def remove_compact_tokenizer(folder: Path) -> None:
    for name in (PIECES_FILE, PIPELINE_FILE):
        (folder / name).unlink(missing_ok=True)


def has_compact_tokenizer(folder: Path) -> bool:
    return (folder / PIECES_FILE).is_file() and (folder / PIPELINE_FILE).is_file()


class CompactTokenizer:
    """`ids(text)` as `tokenizers.Tokenizer.from_file("tokenizer.json").encode(text).ids` gives them."""

    def __init__(self, folder: Path):
        import sentencepiece
        from tokenizers import Tokenizer

        pipeline = json.loads((folder / PIPELINE_FILE).read_text(encoding="utf-8"))
        self._pieces = sentencepiece.SentencePieceProcessor(model_file=str(folder / PIECES_FILE))
        stub = {
            "version": "1.0",
            "normalizer": pipeline["normalizer"],
            "pre_tokenizer": pipeline["pre_tokenizer"],
            "model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]], "byte_fallback": False},
        }
        pipeline_only = Tokenizer.from_str(json.dumps(stub))
        self._normalizer = pipeline_only.normalizer
        self._pre_tokenizer = pipeline_only.pre_tokenizer
        self._template: list[int | None] = pipeline["template"]
        self.special_count = sum(1 for item in self._template if item is not None)
        self._added: dict[str, int] = {}
        patterns = []
        # longest first, as `tokenizers` matches added tokens
        for token in sorted(pipeline["added_tokens"], key=lambda t: -len(t["content"])):
            if token["normalized"]:
                continue  # matched after normalisation by `tokenizers`; none of the supported tokenizers has one
            self._added[token["content"]] = int(token["id"])
            left = r"\s*" if token["lstrip"] else ""
            right = r"\s*" if token["rstrip"] else ""
            patterns.append(f"{left}({re.escape(token['content'])}){right}")
        self._added_pattern = re.compile("|".join(patterns)) if patterns else None

    def _piece_ids(self, segment: str) -> list[int]:
        if not segment:
            return []
        normalized = self._normalizer.normalize_str(segment) if self._normalizer is not None else segment
        words = "".join(word for word, _ in self._pre_tokenizer.pre_tokenize_str(normalized))
        return list(self._pieces.encode(words)) if words else []

    def ids(self, text: str, max_length: int | None = None) -> list[int]:
        pieces: list[int] = []
        position = 0
        if self._added_pattern is not None:
            for match in self._added_pattern.finditer(text):
                pieces += self._piece_ids(text[position : match.start()])
                pieces.append(self._added[next(group for group in match.groups() if group is not None)])
                position = match.end()
        pieces += self._piece_ids(text[position:])
        if max_length is not None:
            pieces = pieces[: max(max_length - self.special_count, 0)]
        return [pieces_id for item in self._template for pieces_id in ([item] if item is not None else pieces)]


def verify(folder: Path, tokenizer_file: Path, texts: Sequence[str]) -> list[str]:
    """The texts (and `AWKWARD_TEXTS`, bare and prefixed) on which the compact tokenizer's ids differ."""
    from tokenizers import Tokenizer

    reference = Tokenizer.from_file(str(tokenizer_file))
    compact = CompactTokenizer(folder)
    candidates = [*texts, *AWKWARD_TEXTS, *(f"query: {text}" for text in AWKWARD_TEXTS)]
    return [text for text in candidates if compact.ids(text) != reference.encode(text).ids]
