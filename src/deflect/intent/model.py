"""The intent model: encoder → linear head → temperature → out-of-scope threshold. The one class serving imports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from deflect.core.artifacts import (
    MANIFEST,
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    ArtifactError,
    read_manifest,
    write_json,
)
from deflect.core.encoder import Encoder
from deflect.core.records import OUT_OF_SCOPE, IntentLabel
from deflect.core.text import normalize_text
from deflect.encoders.for_artifact import EncoderRuntime, artifact_encoder
from deflect.intent.calibration import softmax_with_temperature
from deflect.intent.context import CONTINUES, ContextGate, SettledIntent, blend, context_features
from deflect.intent.features import CHAR_NGRAMS_FILE, CharNgrams, FeatureSettings, head_features
from deflect.intent.ood import OutOfScopeScorer
from deflect.intent.passages import PassageEvidence

HEAD_FILE = "head.npz"
LABELS_FILE = "labels.json"


@dataclass(frozen=True)
class IntentPrediction:
    intent: str  # always the best in-scope intent, even when the query is rejected
    confidence: float  # calibrated probability of `intent`
    out_of_scope: bool
    top_intents: list[tuple[str, float]]
    in_scope_score: float  # the out-of-scope detector's score; below the model's threshold means out of scope
    # the least confidence to answer this reading when it was chosen apart from the model's (a reading in context)
    answer_threshold: float | None = None
    # the in-scope probabilities over the model's intents, for reading the message again in context
    distribution: np.ndarray | None = field(default=None, repr=False, compare=False)


OPTION_COVERAGE = 0.9  # a clarifying question's intent options hold this much of the probability…
MOST_OPTIONS = 3  # …with at most this many of them


@dataclass(frozen=True)
class ClarifyBand:
    """When to ask instead of answering, as chosen on validation data (the artifact's `clarify` section): answerable
    predictions that lead the runner-up by less than `margin`, and unanswerable ones of at least `floor`."""

    margin: float
    floor: float
    option_coverage: float = OPTION_COVERAGE
    most_options: int = MOST_OPTIONS

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> ClarifyBand | None:
        section = manifest.get("clarify")
        if not section:  # trained before clarifying questions: never ask
            return None
        return cls(
            float(section["margin"]),
            float(section["floor"]),
            float(section["option_coverage"]),
            int(section["most_options"]),
        )

    def options(self, top_intents: list[tuple[str, float]]) -> list[str]:
        return clarify_options(top_intents, self.option_coverage, self.most_options)


def clarify_options(top_intents: list[tuple[str, float]], coverage: float, most: int) -> list[str]:
    """The intents a clarifying question offers: the best ones, in order, until they hold `coverage` of the
    probability or there are `most` of them; at least two."""
    options: list[str] = []
    held = 0.0
    for intent, probability in top_intents[:most]:
        if len(options) >= 2 and held >= coverage:
            break
        options.append(intent)
        held += probability
    return options


@dataclass
class LinearHead:
    """Multinomial logistic regression weights over all classes (in-scope intents and, if trained, out_of_scope)."""

    classes: list[str]
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray  # (classes,)
    # the weights split at a dense block's width and transposed, made once
    _blocks: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, init=False, repr=False)

    def logits(self, features: Any) -> np.ndarray:
        return np.asarray(features @ self.coef.T) + self.intercept

    def block_logits(self, dense: np.ndarray, sparse: Any) -> np.ndarray:
        """`logits` of the dense and sparse feature blocks side by side, without building the stacked matrix."""
        dense_weights, sparse_weights = self._block_weights(dense.shape[1])
        return dense @ dense_weights + np.asarray(sparse @ sparse_weights) + self.intercept

    def _block_weights(self, width: int) -> tuple[np.ndarray, np.ndarray]:
        if width not in self._blocks:
            self._blocks[width] = (
                np.ascontiguousarray(self.coef[:, :width].T),
                np.ascontiguousarray(self.coef[:, width:].T),
            )
        return self._blocks[width]


class IntentModel:
    def __init__(
        self,
        encoder: Encoder,
        head: LinearHead,
        feature_settings: FeatureSettings,
        char_ngrams: CharNgrams | None,
        temperature: float,
        out_of_scope_scorer: OutOfScopeScorer,
        out_of_scope_threshold: float,
        answer_threshold: float,
        labels: dict[str, IntentLabel],
        manifest: dict[str, Any],
        passages: PassageEvidence | None = None,
    ):
        expected = encoder.dim + (char_ngrams.size if char_ngrams else 0)
        if head.coef.shape[1] != expected:
            raise ArtifactError(f"head expects {head.coef.shape[1]} features, encoder and n-grams give {expected}")
        self.encoder = encoder
        self.head = head
        self.feature_settings = feature_settings
        self.char_ngrams = char_ngrams
        self.temperature = temperature
        self.out_of_scope_scorer = out_of_scope_scorer
        self.out_of_scope_threshold = out_of_scope_threshold
        self.answer_threshold = answer_threshold
        self.labels = labels
        self.manifest = manifest
        self.passages = passages
        self.clarify_band = ClarifyBand.from_manifest(manifest)
        self.context_gate = ContextGate.from_manifest(manifest)
        self._in_scope = np.array([i for i, name in enumerate(head.classes) if name != OUT_OF_SCOPE])
        self.intents = [head.classes[i] for i in self._in_scope]

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unversioned"))

    def _logits(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        if self.char_ngrams is None:
            logits = self.head.logits(head_features(embeddings, texts, self.feature_settings, None))
        else:
            dense = np.atleast_2d(embeddings) * self.feature_settings.embedding_weight
            logits = self.head.block_logits(dense, self.char_ngrams.transform(texts))
        return logits if self.passages is None else self.passages.fuse(logits, embeddings)

    def predict_encoded(self, texts: Sequence[str], embeddings: np.ndarray, top_k: int = 3) -> list[IntentPrediction]:
        """Predictions for normalised texts whose embeddings are already computed (serving encodes once)."""
        in_scope, scores = self.distributions(texts, embeddings)
        return [
            self._prediction(row, float(score), bool(score < self.out_of_scope_threshold), top_k)
            for row, score in zip(in_scope, scores, strict=True)
        ]

    def read_in_context(
        self,
        text: str,
        alone: IntentPrediction,
        joined_text: str,
        joined_embedding: np.ndarray,
        settled: SettledIntent,
        top_k: int = 3,
    ) -> IntentPrediction:
        """`text`, read `alone` by `predict_encoded`, read again with the conversation so far
        (deflect.intent.context): `joined_text` is the previous turn and the message together. Without a context
        gate, or without the alone reading's distribution, the message is read alone."""
        if self.reads_alone(alone) or alone.distribution is None:
            return alone
        assert self.context_gate is not None
        alone_row = alone.distribution
        (joined,), (joined_score,) = self.distributions([joined_text], joined_embedding)
        prior = np.array([settled.intents.get(intent, 0.0) for intent in self.intents])
        prior = prior / prior.sum() if prior.sum() > 0 else prior
        alone_in_scope = alone.in_scope_score - self.out_of_scope_threshold
        joined_in_scope = float(joined_score) - self.out_of_scope_threshold
        features = context_features(alone_row, joined, alone_in_scope, joined_in_scope, prior, text)
        continuation = self.context_gate.continuation(features) if prior.any() else 0.0
        # the joined text is in scope whenever the previous turn was: only the message alone can tell it is not
        out_of_scope = continuation < CONTINUES and alone_in_scope < 0
        blended = blend(alone_row, prior, continuation)
        prediction = self._prediction(blended, alone.in_scope_score, out_of_scope, top_k)
        return replace(prediction, answer_threshold=self.context_gate.answer_threshold)

    def reads_alone(self, alone: IntentPrediction) -> bool:
        """Whether a message read `alone` is read alone whatever the conversation says: no context gate, or the
        message is in scope at the gate's `alone_confident` level."""
        gate = self.context_gate
        return gate is None or (not alone.out_of_scope and alone.confidence >= gate.alone_confident)

    def distributions(self, texts: Sequence[str], embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """In-scope intent probabilities (rows over `self.intents`) and out-of-scope scores of the texts."""
        embeddings = np.atleast_2d(embeddings)
        logits = self._logits(texts, embeddings)
        in_scope = softmax_with_temperature(logits, self.temperature)[:, self._in_scope]
        return in_scope, self.out_of_scope_scorer.score(logits, self._in_scope, embeddings)

    def _prediction(self, row: np.ndarray, score: float, out_of_scope: bool, top_k: int) -> IntentPrediction:
        order = np.argsort(-row)[:top_k]
        return IntentPrediction(
            intent=self.intents[order[0]],
            confidence=float(row[order[0]]),
            out_of_scope=out_of_scope,
            top_intents=[(self.intents[i], float(row[i])) for i in order],
            in_scope_score=score,
            distribution=row,
        )

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self.encoder.encode(texts, "query", show_progress=show_progress)

    def predict(self, texts: Sequence[str], top_k: int = 3, *, show_progress: bool = False) -> list[IntentPrediction]:
        if not texts:
            return []
        normalized = [normalize_text(t) for t in texts]
        return self.predict_encoded(normalized, self.encode(normalized, show_progress=show_progress), top_k)

    def display_name(self, intent: str, locale: str) -> str:
        return (self.labels.get(intent) or IntentLabel(intent)).display_name(locale)

    def option_label(self, intent: str, locale: str) -> str:
        """How a clarifying question offers `intent` to a customer."""
        return (self.labels.get(intent) or IntentLabel(intent)).option_label(locale)

    def save_pretrained(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / HEAD_FILE, coef=self.head.coef, intercept=self.head.intercept)
        if self.char_ngrams is not None:
            self.char_ngrams.save(folder)
        self.out_of_scope_scorer.save(folder)
        if self.passages is not None:
            self.passages.save(folder)
        write_json(
            folder / LABELS_FILE,
            {
                "classes": self.head.classes,
                "names": {k: v.names for k, v in self.labels.items()},
                "options": {k: v.options for k, v in self.labels.items() if v.options},
            },
        )
        write_json(folder / MANIFEST, self.manifest)

    @classmethod
    def from_pretrained(
        cls,
        folder: str | Path,
        encoder: Encoder | None = None,
        *,
        threads: int | None = None,
        runtime: EncoderRuntime = "auto",
    ) -> IntentModel:
        """Load an artifact folder; a given encoder must be the one the artifact was trained with. `runtime`: the
        encoder's ONNX export if the artifact has one (auto), never (native), or required (onnx)."""
        folder = Path(folder)
        manifest = read_manifest(folder, MODEL_FORMAT, MODEL_FORMAT_VERSION)
        encoder = artifact_encoder(folder, manifest, encoder, threads, runtime)
        temperature = float(manifest["calibration"]["temperature"])
        try:
            weights = np.load(folder / HEAD_FILE)
            label_document = json.loads((folder / LABELS_FILE).read_text(encoding="utf-8"))
            scorer = OutOfScopeScorer.load(folder, manifest["out_of_scope"]["score"], temperature)
            passages = PassageEvidence.load(folder)
        except (OSError, ValueError, KeyError) as error:
            raise ArtifactError(f"{folder}: incomplete artifact ({error})") from None
        head = LinearHead(list(label_document["classes"]), weights["coef"], weights["intercept"])
        feature_settings = FeatureSettings(
            **{**manifest["features"], "ngram_range": tuple(manifest["features"]["ngram_range"])}
        )
        char_ngrams = CharNgrams.load(folder) if (folder / CHAR_NGRAMS_FILE).is_file() else None
        if feature_settings.char_ngrams and char_ngrams is None:
            raise ArtifactError(f"{folder}: incomplete artifact (no {CHAR_NGRAMS_FILE})")
        options = label_document.get("options", {})
        labels = {k: IntentLabel(k, v, options.get(k, {})) for k, v in label_document.get("names", {}).items()}
        return cls(
            encoder=encoder,
            head=head,
            feature_settings=feature_settings,
            char_ngrams=char_ngrams,
            temperature=temperature,
            out_of_scope_scorer=scorer,
            out_of_scope_threshold=float(manifest["out_of_scope"]["threshold"]),
            answer_threshold=float(manifest["answer"]["threshold"]),
            labels=labels,
            manifest=manifest,
            passages=passages,
        )
