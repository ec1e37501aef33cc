"""The clarifying question's shapes in the v1 API: the options a `clarify` decision offers, and the choice a
customer sends back."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from deflect.core.vocabulary import ClarifyStep, OptionKind

IDENTIFIER = r"^[A-Za-z0-9_.:@-]{1,128}$"


class ChoiceIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"suggestion_id": "s-5d0c2f7a9b1e3c4d", "intent": "refund_status"}]},
    )

    suggestion_id: str = Field(pattern=IDENTIFIER, description="The clarifying question's suggestion_id")
    kind: OptionKind = Field(
        OptionKind.INTENT, description="intent (one of the intents offered), something_else or person"
    )
    intent: str | None = Field(None, pattern=IDENTIFIER, description="The intent of the option chosen (kind intent)")

    @model_validator(mode="after")
    def intent_only_for_intent_options(self) -> ChoiceIn:
        if self.kind is OptionKind.INTENT and self.intent is None:
            raise ValueError("a choice of kind 'intent' needs the intent chosen")
        if self.kind is not OptionKind.INTENT and self.intent is not None:
            raise ValueError(f"a choice of kind '{self.kind.value}' takes no intent")
        return self


class ClarifyOptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    kind: OptionKind = Field(description="intent, something_else or person")
    label: str = Field(description="What the button says, in the customer's language")
    intent: str | None = Field(None, description="For kind intent: send it back in `choice`")
    article_id: str | None = Field(None, description="The article that answers this option, when one was found")


class ClarificationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    step: ClarifyStep = Field(description="choose: pick an option; rephrase: say it in other words")
    question: str = Field(description="What the bot asks, in the customer's language")
    options: list[ClarifyOptionOut]
