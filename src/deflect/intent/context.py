"""Reading a message in its conversation. Short, elliptical or corrective turns ("네", "주문번호는 …예요", "the
second one", "actually I already sent it back") say little alone; read with the previous turn they usually continue
its intent or correct it. The message is read twice, alone and joined to the previous customer turn (the joined
text's vector is the mean of the two turns' vectors: no second encoder pass, and on the demo conversations it read
follow-ups as well as encoding the joined text did), and a gate fitted on labelled conversations (`deflect train
--conversations`) estimates from the two readings, the discourse markers of the message and the intent the
conversation had settled on whether the message continues that intent:

    P(intent) = g · prior(intent) + (1 − g) · alone(intent)

so a continuation keeps the settled intent, and a new topic is read as the message itself says. A message the model
reads alone, in scope, at `alone_confident` or above is read alone; the level is chosen on the same conversations,
for the most turns answered right with few answered wrong (on the demo set: never — a confident message that
disagrees with the conversation is more often asked about than answered wrongly)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from deflect.core.artifacts import ArtifactError

# The gate's inputs, in the order of its weights.
CONTEXT_FEATURES = (
    "alone_prior",  # the probability the message alone gives the settled intent(s)
    "alone_elsewhere",  # how sure the message alone is of another intent, when it is in scope alone: a new topic
    "joined_prior",  # the same, read joined to the previous turn
    "alone_confidence",
    "joined_confidence",
    "alone_in_scope",  # the out-of-scope score minus the model's threshold: below zero, out of scope alone
    "joined_in_scope",
    "log_length",  # characters of the message
    "prior_certainty",  # 1.0 when the customer chose or was answered, the top share otherwise
    "corrects",  # the message says it corrects something ("아니요", "말고", "actually", "not …")
    "changes_topic",  # the message says it moves on ("근데", "그건 그렇고", "by the way", "also")
)
# Discourse markers, Korean and English, that the intent readings cannot see: a correction does not continue what
# was settled, and a marked change of topic rarely does.
CORRECTION_MARKERS = re.compile(
    r"아니(?:요|에요|고|라|구요|었)?\b|말고|그게\s*아니|잘못|정정|잠깐"
    r"|\b(?:actually|i mean|not|no|instead|rather|wait)\b",
    re.IGNORECASE,
)
TOPIC_CHANGE_MARKERS = re.compile(
    r"근데|그건\s*그렇고|그리고|혹시|다른\s*(?:거|질문|문의)"
    r"|\b(?:by the way|btw|also|another|unrelated|off topic)\b",
    re.IGNORECASE,
)
CONTINUES = 0.5  # a gate value from which the message is read as continuing the settled intent (never out of scope)


@dataclass(frozen=True)
class SettledIntent:
    """What the conversation understood before this message: the previous customer turn (PII-redacted, as stored)
    and the intent it settled on — one intent for certain when the customer chose it or the bot answered it, the
    previous reading's top intents otherwise."""

    previous_text: str
    intents: dict[str, float]
    previous_vector: np.ndarray | None = None  # the previous turn's sentence vector, when the conversation kept it


@dataclass(frozen=True)
class ContextGate:
    weights: tuple[float, ...]
    intercept: float
    alone_confident: float = 1.01  # above any confidence: every message after the first is read in context
    answer_threshold: float = 0.0  # the least confidence to answer a reading in context (above the model's own)

    def __post_init__(self) -> None:
        if len(self.weights) != len(CONTEXT_FEATURES):
            raise ValueError(f"a context gate has {len(CONTEXT_FEATURES)} weights, not {len(self.weights)}")

    def continuation(self, features: np.ndarray) -> float:
        """The probability that the message continues the settled intent."""
        return 1.0 / (1.0 + math.exp(-(float(np.dot(self.weights, features)) + self.intercept)))

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> ContextGate | None:
        section = manifest.get("context")
        if not section:  # trained without labelled conversations: every message is read alone
            return None
        try:
            weights = section["weights"]
            return cls(
                tuple(float(weights[name]) for name in CONTEXT_FEATURES),
                float(section["intercept"]),
                float(section["alone_confident"]),
                float(section["answer_threshold"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ArtifactError(
                f"the manifest's context gate is incomplete or of another version ({error!r})"
            ) from None

    def manifest_section(self, **details: Any) -> dict[str, Any]:
        return {
            "weights": dict(zip(CONTEXT_FEATURES, self.weights, strict=True)),
            "intercept": self.intercept,
            "alone_confident": self.alone_confident,
            "answer_threshold": self.answer_threshold,
            **details,
        }


def context_features(
    alone: np.ndarray,
    joined: np.ndarray,
    alone_in_scope: float,
    joined_in_scope: float,
    prior: np.ndarray,
    text: str,
) -> np.ndarray:
    """The gate's inputs for one message `text`: `alone` and `joined` are in-scope intent distributions, `prior`
    the settled intents over the same columns (summing to 1), the in-scope scores relative to the model's threshold."""
    alone_prior = float(alone @ prior)
    return np.array(
        [
            alone_prior,
            (1.0 - alone_prior) * float(alone.max()) * float(alone_in_scope > 0),
            float(joined @ prior),
            float(alone.max()),
            float(joined.max()),
            alone_in_scope,
            joined_in_scope,
            math.log(max(len(text), 1)),
            float(prior.max()),
            float(CORRECTION_MARKERS.search(text) is not None),
            float(TOPIC_CHANGE_MARKERS.search(text) is not None),
        ]
    )


def says_it_alone(gate: ContextGate, alone: np.ndarray, alone_in_scope: float) -> bool:
    return alone_in_scope >= 0 and float(alone.max()) >= gate.alone_confident


def joined_vector(message: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """The sentence vector of the previous turn and the message read together."""
    mean = (np.asarray(message, dtype=np.float32) + np.asarray(previous, dtype=np.float32)) / 2.0
    return mean / max(float(np.linalg.norm(mean)), 1e-12)


def blend(alone: np.ndarray, prior: np.ndarray, continuation: float) -> np.ndarray:
    return continuation * prior + (1.0 - continuation) * alone
