"""All configuration in one object, read from `DEFLECT_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEFLECT_", env_file=".env", extra="ignore")

    model_dir: Path = Field(Path("models/demo"), description="Intent model artifact folder to serve")
    index_dir: Path = Field(Path("indexes/demo"), description="Article index folder to serve")
    host: str = "127.0.0.1"
    port: int = 8000
    threads: int | None = Field(None, description="Encoder threads; default: the library's own choice")

    fallback_locale: str = Field("en", description="Locale when a message has no letters to detect one from")
    suggestions: int = Field(3, ge=1, le=10, description="Articles returned per suggestion")
    search_mode: Literal["hybrid", "dense", "lexical"] = Field("hybrid", description="Article retrieval mode")
    fusion: Literal["weighted", "rrf"] = Field("weighted", description="How dense and BM25 rankings combine")
    lexical_weight: float = Field(0.05, ge=0.0, description="Weighted fusion: BM25 share (normalised)")
    intent_boost: float = Field(
        0.1, ge=0.0, description="Score added to articles linked to the predicted intent, × its probability"
    )
    answer_threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="Confidence needed for a bot answer; default: the model artifact's"
    )
    handoff_intents: list[str] = Field(
        default_factory=lambda: ["talk_to_agent", "complaint", "account_hacked"],
        description="Intents always handed to a person",
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
