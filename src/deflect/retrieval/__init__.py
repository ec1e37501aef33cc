"""The article index: help-center articles chunked, embedded into FAISS and tokenised for BM25, searched as one hybrid
ranking; built by `deflect index` as a versioned folder."""
