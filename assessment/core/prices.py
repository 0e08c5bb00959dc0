"""What the plan's steps cost in the business's own money: the price list and its arithmetic.

Each recommendation carries a cost band (none, low, medium or high). The price list gives each
band a range in each currency the questionnaire offers: the typical first-year cost of a step in
that band for a business of `reference_staff` people. A step whose cost grows with the number of
people (`per_person: true` on the recommendation) is scaled to the business's own staff count.
The figures are typical market ranges worked out from public prices, each with its source and
date; they are not quotes. docs/methodology.md ("What the plan's steps cost") explains them.

The shipped list is questions/prices/default.yaml. A firm can set its own figures for one
currency (`with_firm_prices`); its reports then use those, and the shipped ones elsewhere.

Pure: no Flask, no storage.

    prices = default_price_list()
    one = cost_range_for(recommendation, staff_count=12, currency="gbp", prices=prices)
    total = add_ranges([one, other])
    range_text(total)                      # "£1,200–£3,400"
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from .bank.frameworks import SafeLoader
from .bank.loader import BankError, Problem, key_path
from .costs import CURRENCIES

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "questions" / "prices" / "default.yaml"
PRICES_DIR = "prices"  # beside a bank's section files: <bank folder>/prices/default.yaml
DEFAULT_NAME = "default.yaml"
DEFAULT_STAFF = 15  # the bank's plan.default_staff; callers pass their bank's own
PRICED_BANDS = ("low", "medium", "high")  # "none" costs nothing beyond time
CURRENCY_CODES = tuple(code for code in CURRENCIES if code != "other")
CURRENCY_NAMES = {"usd": "US dollar", "gbp": "Pound sterling", "eur": "Euro",
                  "cad": "Canadian dollar", "aud": "Australian dollar", "nzd": "New Zealand dollar"}
NO_COST_TEXT = "No cost beyond time"
FIRM_SOURCE = "firm"  # the source id of the figures a firm sets for its own reports
MAX_AMOUNT = 10_000_000  # a firm's figure above this is a typing mistake

CurrencyCode = Literal["usd", "gbp", "eur", "cad", "aud", "nzd"]
SourceId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=60)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


DATE_FORM = re.compile(r"(19|20)\d\d(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")


def _date_text(value: object) -> str:
    """When a figure was published or read: a year, a month or a day ("2026", "2026-06",
    "2026-10-30"). YAML reads an unquoted 2026-10-30 as a date: it is taken as the same text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not DATE_FORM.fullmatch(value.strip()):
        raise ValueError("write the date as a year, a month or a day: 2026, 2026-06 or "
                         "2026-10-30")
    return value.strip()


DateText = Annotated[str, BeforeValidator(_date_text)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Model):
    """Where figures come from: a public price list, a survey, an exchange rate."""

    title: Text
    publisher: Text
    url: Annotated[str, StringConstraints(pattern=r"^https://\S+$")] | None = None
    date: DateText
    figures: Text  # the figures taken from it, in words


class BandRange(Model):
    """The typical first-year cost of one band in one currency, with how it was worked out."""

    low: float = Field(ge=0, allow_inf_nan=False)
    high: float = Field(ge=0, allow_inf_nan=False)
    basis: Text
    sources: tuple[SourceId, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _in_order(self):
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is more than high ({self.high:g}); swap them")
        return self


class CurrencyPrices(Model):
    low: BandRange
    medium: BandRange
    high: BandRange


class PriceList(Model):
    """Every band's range in every currency, and the sources of the figures."""

    title: Text
    updated: DateText
    reference_staff: int = Field(ge=1)  # the ranges are for a business of this many people
    sources: dict[SourceId, Source] = Field(min_length=1)
    currencies: dict[CurrencyCode, CurrencyPrices]

    @model_validator(mode="after")
    def _complete(self):
        # "path: message": the loader turns it into a problem at that key path.
        for code in CURRENCY_CODES:
            if code not in self.currencies:
                raise ValueError(f"currencies: no prices for '{code}'; every currency but "
                                 f"'other' needs low, medium and high")
        for code, bands in self.currencies.items():
            for band in PRICED_BANDS:
                for i, source in enumerate(getattr(bands, band).sources):
                    if source not in self.sources:
                        raise ValueError(f"currencies.{code}.{band}.sources[{i}]: no source "
                                         f"'{source}' under 'sources'")
        return self

    def band(self, currency: str, band: str) -> BandRange | None:
        prices = self.currencies.get(currency)  # type: ignore[call-overload]
        return getattr(prices, band) if prices is not None and band in PRICED_BANDS else None


class PriceListError(BankError):
    """The price list is not valid. `problems` lists each mistake with its file and key path."""


def _problems(file: str, error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = tuple(p for p in item["loc"] if p not in ("function-after", "function-before"))
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = ("unknown key (check the spelling against docs/methodology.md, "
                       "\"The price list file\")")
        if loc and loc[-1] == "[key]":
            loc = loc[:-1]
            message = (f"'{loc[-1]}' is not a currency of the questionnaire; use one of "
                       f"{', '.join(CURRENCY_CODES)}") if loc[:1] == ("currencies",) else message
        path = key_path(loc)
        if not path and ": " in message and not message.startswith(" "):
            path, _, message = message.partition(": ")
        problems.append(Problem(file, path, message))
    return problems


def load_price_list(path: Path | str, name: str | None = None) -> PriceList:
    """Read and validate a price list file; PriceListError names the file and the key path of
    every mistake. `name` is how the file is called in messages (default: its folder and name)."""
    path = Path(path)
    name = name or f"{path.parent.name}/{path.name}"
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SafeLoader)
    except FileNotFoundError:
        raise PriceListError([Problem(name, "", "no price list here")]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise PriceListError([Problem(name, where, f"not valid YAML: {problem}")]) from None
    except UnicodeDecodeError:
        raise PriceListError([Problem(name, "", "not UTF-8 text")]) from None
    if not isinstance(raw, dict):
        raise PriceListError([Problem(name, "", "expected a mapping of keys such as title, "
                                                "sources and currencies")])
    try:
        return PriceList.model_validate(raw)
    except ValidationError as error:
        raise PriceListError(_problems(name, error)) from None


def price_list_file(bank_dir: Path | str) -> Path:
    """Where a bank folder keeps its price list."""
    return Path(bank_dir) / PRICES_DIR / DEFAULT_NAME


@lru_cache(maxsize=1)
def default_price_list() -> PriceList:
    """The shipped price list, read once."""
    return load_price_list(DEFAULT_FILE, f"questions/{PRICES_DIR}/{DEFAULT_NAME}")


# ---- ranges ----------------------------------------------------------------------------------

class CostRange(NamedTuple):
    """From `low` to `high`, in `currency` (a code such as "gbp")."""

    low: float
    high: float
    currency: str

    @property
    def symbol(self) -> str:
        return CURRENCIES.get(self.currency, "")

    def text(self) -> str:
        return range_text(self)


def staff_or_default(staff_count: object, default_staff: int = DEFAULT_STAFF) -> float:
    """The staff count to scale by: the one given when it is a positive number, else the
    default (the bank's plan.default_staff)."""
    if isinstance(staff_count, (int, float)) and not isinstance(staff_count, bool) \
            and math.isfinite(staff_count) and staff_count > 0:
        return float(staff_count)
    return float(default_staff)


def cost_range(cost_band: str | None, per_person: bool, staff_count: int | float | None,
               currency: str | None, prices: PriceList, *,
               default_staff: int = DEFAULT_STAFF) -> CostRange | None:
    """What one step in this band typically costs this business in its first year; None when
    the band or the currency is unknown (or "other": the report then gives the band in words).
    A "none" band costs nothing beyond time (0 to 0). A per-person cost is scaled from the
    list's reference size to `staff_count` (`default_staff` when none is given)."""
    if cost_band is None or currency is None or currency not in prices.currencies:
        return None
    if cost_band == "none":
        return CostRange(0.0, 0.0, currency)
    band = prices.band(currency, cost_band)
    if band is None:
        return None
    factor = staff_or_default(staff_count, default_staff) / prices.reference_staff \
        if per_person else 1.0
    return CostRange(band.low * factor, band.high * factor, currency)


def cost_range_for(recommendation: Any, staff_count: int | float | None, currency: str | None,
                   prices: PriceList, *, default_staff: int = DEFAULT_STAFF) -> CostRange | None:
    """`cost_range` for a bank recommendation (its `cost` band and `per_person` flag)."""
    return cost_range(getattr(recommendation, "cost", None),
                      bool(getattr(recommendation, "per_person", False)), staff_count, currency,
                      prices, default_staff=default_staff)


def add_ranges(ranges: Iterable[CostRange | None], currency: str | None = None) \
        -> CostRange | None:
    """The sum of several ranges (a phase's steps), lows added to lows and highs to highs.
    Nones (steps without a money figure) are left out. With nothing to add: 0 to 0 in
    `currency`, or None when no currency is given. Ranges in different currencies are a
    ValueError."""
    low = high = 0.0
    for r in ranges:
        if r is None:
            continue
        if currency is not None and r.currency != currency:
            raise ValueError(f"cannot add a range in {r.currency} to one in {currency}")
        currency = r.currency
        low, high = low + r.low, high + r.high
    return None if currency is None else CostRange(low, high, currency)


def _step(amount: float) -> int:
    for limit, step in ((20, 1), (100, 5), (1_000, 10), (10_000, 100)):
        if amount < limit:
            return step
    return 1_000


def round_down(amount: float) -> int:
    """A range's low end as it is printed: rounded down to a plain figure (£1,234 -> £1,200)."""
    step = _step(amount)
    return int(math.floor(amount / step + 1e-9) * step)


def round_up(amount: float) -> int:
    """A range's high end as it is printed: rounded up to a plain figure (£1,234 -> £1,300)."""
    step = _step(amount)
    return int(math.ceil(amount / step - 1e-9) * step)


def money(amount: float, currency: str) -> str:
    """An amount with the currency's symbol, as the cost section prints it: "£1,200"."""
    return f"{CURRENCIES.get(currency, '')}{amount:,.0f}"


def range_text(r: CostRange | None) -> str:
    """"£200–£600"; "No cost beyond time" for 0 to 0; "" for None (say the band in words)."""
    if r is None:
        return ""
    low, high = round_down(r.low), round_up(r.high)
    if high <= 0:
        return NO_COST_TEXT
    if low >= high:
        return f"about {money(high, r.currency)}"
    return f"{money(low, r.currency)}–{money(high, r.currency)}"


# ---- a firm's own figures --------------------------------------------------------------------

def with_firm_prices(base: PriceList, firm_name: str, currency: str,
                     bands: Mapping[str, tuple[float, float]], saved_on: str) -> PriceList:
    """`base` with a firm's own ranges for one currency (its reports use them; other
    currencies keep the base's). `bands` maps low, medium and high to (low, high)."""
    data = base.model_dump(mode="json")
    data["sources"][FIRM_SOURCE] = {
        "title": f"Prices set by {firm_name}", "publisher": firm_name, "url": None,
        "date": saved_on, "figures": "The firm's own figures for its clients' reports."}
    data["currencies"][currency] = {
        band: {"low": float(bands[band][0]), "high": float(bands[band][1]),
               "basis": f"Set by {firm_name} for its reports.", "sources": [FIRM_SOURCE]}
        for band in PRICED_BANDS}
    return PriceList.model_validate(data)


def firm_bands_problem(currency: object, bands: object) -> str | None:
    """Why stored firm figures cannot be used (None when they can): a last check on the way
    out of storage, the form having checked them on the way in."""
    if currency not in CURRENCY_CODES:
        return f"unknown currency {currency!r}"
    if not isinstance(bands, Mapping) or set(bands) != set(PRICED_BANDS):
        return "expected low, medium and high"
    for band in PRICED_BANDS:
        pair = bands[band]
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                and 0 <= v <= MAX_AMOUNT for v in pair) and pair[0] <= pair[1]):
            return f"{band}: expected two amounts, the lower first"
    return None
