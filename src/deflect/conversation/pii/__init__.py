"""PII redaction for Korean and English support chat, run before a message is stored or shown to an agent.

Finds e-mail addresses, phone numbers, payment cards, Korean resident registration numbers (RRN), bank accounts, IP
addresses, personal names after a cue (이름은 …, my name is …) and street addresses, on the message's normalised
form (NFKC, every dash a `-`), and reports spans in the caller's text. One module per kind:

- `normalise`: NFKC and dash folding, with the map back to the original offsets;
- `cues`: the cue words that decide ambiguous digit runs, and the boundaries a number may not continue past;
- `contact`: e-mail, phone and IP; `numbers`: cards and RRNs; `accounts`: bank accounts and IBANs;
- `names`, `addresses`; `redactor`: runs them all, resolves overlaps and redacts.
"""

from deflect.conversation.pii.accounts import iban_valid
from deflect.conversation.pii.numbers import luhn_valid, rrn_birth_date_valid, rrn_check_digit_valid
from deflect.conversation.pii.redactor import find_pii, redact
from deflect.conversation.pii.spans import PiiLabel, PiiSpan

__all__ = [
    "PiiLabel",
    "PiiSpan",
    "find_pii",
    "iban_valid",
    "luhn_valid",
    "redact",
    "rrn_birth_date_valid",
    "rrn_check_digit_valid",
]
