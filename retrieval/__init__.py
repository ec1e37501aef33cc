"""Help-center retrieval: articles chunked, embedded and searched with FAISS."""
