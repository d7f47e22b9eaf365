"""What embedding with a paid provider costs: the one price table, dated, with where it comes from.

Prices change; this table is the one place to update them, and every number the app or the CLI shows says the
date it was read, so nobody takes an old price for today's. Google bills Gemini embeddings per input token
(the text as sent, with gemini-embedding-2's task prefix); Batch mode costs half. The free tier (rate-limited,
its prompts may be used to improve Google's products) costs nothing and is not modelled here.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2026-04"
PRICES_SOURCE = "https://ai.google.dev/gemini-api/docs/pricing (paid tier, text input)"


@dataclass(frozen=True)
class TokenPrice:
    """US dollars per million input tokens, for synchronous calls and for Batch mode."""

    per_million: float
    batch_per_million: float


# Read from Google's pricing page (paid tier) as quoted in April 2026; gemini-embedding-2 was then in preview.
GEMINI_PRICES: dict[str, TokenPrice] = {
    "gemini-embedding-001": TokenPrice(per_million=0.15, batch_per_million=0.075),
    "gemini-embedding-2": TokenPrice(per_million=0.20, batch_per_million=0.10),
}


@dataclass(frozen=True)
class PriceEstimate:
    """The estimated cost of sending `tokens` input tokens to a model, or why there is none."""

    model: str
    tokens: int
    dollars: float | None  # None: the model is not in the table
    batch_dollars: float | None

    def summary(self) -> str:
        if self.dollars is None:
            return f"No price known for {self.model} (the table of {PRICES_AS_OF} lists {', '.join(GEMINI_PRICES)})."
        return (
            f"≈ ${self.dollars:,.4f} for {self.tokens:,} tokens (Batch mode ≈ ${self.batch_dollars:,.4f}); "
            f"prices of {PRICES_AS_OF}, {PRICES_SOURCE}"
        )


def estimate_price(model: str, tokens: int) -> PriceEstimate:
    """The cost of `tokens` input tokens with a Gemini model (a "models/" prefix is ignored)."""
    price = GEMINI_PRICES.get(model.removeprefix("models/"))
    if price is None:
        return PriceEstimate(model, tokens, None, None)
    return PriceEstimate(
        model, tokens, tokens * price.per_million / 1_000_000, tokens * price.batch_per_million / 1_000_000
    )
