"""Finding the passages that support a statement: the packaged embedding model, the on-disk index
(faiss + BM25) kept in step with the corpus, hybrid search, and its evaluation on labelled questions."""
