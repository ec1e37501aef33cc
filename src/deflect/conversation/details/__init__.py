"""The details a support agent needs, pulled out of the customer's messages into the handoff package so the agent
never asks again: order and tracking numbers, product codes, amounts and dates by the patterns of a deployment's
details file (src/deflect/demo/details.yaml documents the format and the demo store's formats), and the contact
details the PII redactor finds, reported only as given ("연락처 제공됨"), never with their value.

- `patterns`: reads and checks the details file into frozen dataclasses (`DetailsConfigError` says what is wrong);
- `extractor`: `DetailsExtractor.extract(text)` for one message, `extract_conversation(texts)` for the customer
  turns of a conversation, each detail once; the normalisers a file may name.
"""

from deflect.conversation.details.extractor import NORMALISERS, Detail, DetailsExtractor
from deflect.conversation.details.patterns import DetailsConfig, DetailsConfigError, load_config

__all__ = [
    "NORMALISERS",
    "Detail",
    "DetailsConfig",
    "DetailsConfigError",
    "DetailsExtractor",
    "load_config",
]
