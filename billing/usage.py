"""Value objects that flow from the relay into billing (so relay imports billing, never the reverse)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_openai(self) -> dict:
        usage: dict = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }
        if self.cached_tokens:
            usage["prompt_tokens_details"] = {"cached_tokens": self.cached_tokens}
        if self.reasoning_tokens:
            usage["completion_tokens_details"] = {"reasoning_tokens": self.reasoning_tokens}
        return usage


@dataclass(slots=True)
class Reservation:
    """Quota taken from a user (and a limited key) before the upstream call; settled or released once."""

    user_id: int
    username: str
    token_id: int
    token_name: str
    token_unlimited: bool
    group: str
    amount: int
    request_id: str = ""
    settled: bool = False
    extra: dict = field(default_factory=dict)


@dataclass(slots=True, frozen=True)
class Charge:
    """What one request costs, and how the number was reached (for the log line)."""

    model_name: str
    quota: int
    model_ratio: float
    group_ratio: float
    completion_ratio: float
