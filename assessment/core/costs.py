"""The cost model: what IT trouble cost this business, in its own money, from its own figures.

Only figures the business gave go in; nothing is estimated from industry averages. A figure that
cannot be computed from what was given is None, and when none can be computed the whole cost
section is left out. docs/methodology.md explains the formulas in plain words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

HOURS_PER_YEAR_FACTOR = 52  # weeks in a year, to turn opening hours per week into a year

CURRENCIES = {"usd": "$", "gbp": "£", "eur": "€", "cad": "$", "aud": "$", "nzd": "$", "other": ""}
BILLING_MODELS = ("hourly", "block", "flat", "in_house", "mixed")
# Who looks after IT, asked when no IT company is paid (wording.arrangement reads it).
IT_SUPPORT = ("provider", "in_house", "family", "nobody")

# cost-model input -> the kind of answer that can feed it ("number", or the allowed choice ids)
COST_INPUTS: dict[str, str | tuple[str, ...]] = {
    "currency": tuple(CURRENCIES),
    "staff_count": "number",
    "downtime_cost_per_hour": "number",
    "annual_revenue": "number",
    "open_hours_per_week": "number",
    "outages_12m": "number",
    "outage_hours_12m": "number",
    "it_spend_12m": "number",
    "reactive_spend_12m": "number",
    "billing_model": BILLING_MODELS,
    "it_support": IT_SUPPORT,
}


class CostExposure(NamedTuple):
    """Every figure the inputs allow (a NamedTuple: one is built with each score)."""

    currency: str
    hourly_downtime_cost: float | None
    hourly_basis: str | None  # "given" or "revenue"
    outage_hours_12m: float | None
    outages_12m: float | None
    downtime_cost_12m: float | None
    it_spend_12m: float | None
    reactive_spend_12m: float | None
    reactive_share: float | None  # 0..1
    billing_model: str | None
    monthly_spend: float | None

    @property
    def symbol(self) -> str:
        return CURRENCIES.get(self.currency, "")

    def money(self, amount: float) -> str:
        return f"{self.symbol}{amount:,.0f}"


def _positive(inputs: Mapping[str, object], key: str) -> float | None:
    value = inputs.get(key)
    return float(value) if isinstance(value, (int, float)) and value >= 0 else None


def cost_exposure(inputs: Mapping[str, object]) -> CostExposure | None:
    """Compute every figure the inputs allow; None when they allow none."""
    hourly = _positive(inputs, "downtime_cost_per_hour")
    basis = "given" if hourly is not None else None
    revenue = _positive(inputs, "annual_revenue")
    open_hours = _positive(inputs, "open_hours_per_week")
    if hourly is None and revenue is not None and open_hours:
        hourly = revenue / (open_hours * HOURS_PER_YEAR_FACTOR)
        basis = "revenue"

    outage_hours = _positive(inputs, "outage_hours_12m")
    downtime_cost = (hourly * outage_hours
                     if hourly is not None and outage_hours is not None else None)

    spend = _positive(inputs, "it_spend_12m")
    reactive = _positive(inputs, "reactive_spend_12m")
    if reactive is not None and spend is not None and reactive > spend:
        reactive = spend  # cannot be more than the whole; the wizard warns about it
    share = reactive / spend if reactive is not None and spend else None

    if downtime_cost is None and share is None and spend is None:
        return None
    currency = inputs.get("currency")
    billing = inputs.get("billing_model")
    return CostExposure(
        currency=currency if isinstance(currency, str) else "other",
        hourly_downtime_cost=hourly,
        hourly_basis=basis,
        outage_hours_12m=outage_hours,
        outages_12m=_positive(inputs, "outages_12m"),
        downtime_cost_12m=downtime_cost,
        it_spend_12m=spend,
        reactive_spend_12m=reactive,
        reactive_share=share,
        billing_model=billing if isinstance(billing, str) else None,
        monthly_spend=spend / 12 if spend is not None else None,
    )
