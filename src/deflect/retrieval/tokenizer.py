"""Tokens for lexical search: Korean by morphological analysis (Kiwi), so spacing and endings do not matter;
English words lower-cased, stop words dropped, Snowball-stemmed."""

from __future__ import annotations

import os
import weakref
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache, partial

import Stemmer
from kiwipiepy import Kiwi

# What the index's BM25 terms are: part of an index's fingerprint, so a changed analyser rebuilds the index.
LEXICAL_ANALYSIS = (
    "BM25 (bm25s) over Kiwi morphemes (without its typo, multi-word and proper-noun dictionaries) "
    "and stemmed English words"
)
# Content morphemes: nouns, numerals, verb and adjective stems, roots, foreign words, numbers, hanja.
_KEEP_TAGS = frozenset({"NNG", "NNP", "NR", "VV", "VA", "XR", "SL", "SN", "SH"})
_ENGLISH_STOP_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "too",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    }
)


class LexicalTokenizer:
    def __init__(self) -> None:
        # Without Kiwi's typo, multi-word and proper-noun (Wikipedia titles) dictionaries: 256 MB less per process.
        # Typo and multi-word: demo article Recall@1/3/5 and MRR@10 identical on the 620 demo test queries. Proper
        # nouns: hybrid Recall@1 73.55 → 73.23%, MRR@10 0.824 → 0.823 on the 930 Korean demo *training* queries.
        self._kiwi = Kiwi(load_typo_dict=False, load_multi_dict=False, load_default_dict=False)
        self._stemmer = Stemmer.Stemmer("english")
        # Kiwi keeps about 4.4 MB of caches in every thread that calls it (measured: 32 request threads, +141 MB), so
        # one thread does all its analysis for the request threads.
        self._analyser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiwi")
        # A forked worker (`deflect serve --workers N`) shares the loaded Kiwi model but not the parent's thread.
        os.register_at_fork(after_in_child=partial(_new_analyser_after_fork, weakref.ref(self)))

    def __call__(self, text: str) -> list[str]:
        tokens = self._analyser.submit(self._kiwi.tokenize, text).result()
        words = []
        for token in tokens:
            if token.tag not in _KEEP_TAGS:
                continue
            form = token.form.lower()
            if token.tag == "SL":
                if form in _ENGLISH_STOP_WORDS:
                    continue
                form = self._stemmer.stemWord(form)
            words.append(form)
        return words

    def batch(self, texts: list[str]) -> list[list[str]]:
        return [self(text) for text in texts]


def _new_analyser_after_fork(tokenizer_ref: weakref.ref[LexicalTokenizer]) -> None:
    tokenizer = tokenizer_ref()
    if tokenizer is not None:
        tokenizer._analyser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiwi")


@lru_cache(maxsize=1)
def lexical_tokenizer() -> LexicalTokenizer:
    """Loading Kiwi's model takes a couple of seconds: do it once per process."""
    return LexicalTokenizer()
