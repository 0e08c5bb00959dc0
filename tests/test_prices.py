"""The price list: what the plan's cost bands mean in money. The shipped list is complete and
every figure has a public source and a date; mistakes in the file are named by file and key path,
also by `flask bank check`; ranges scale with staff for per-person costs only; a currency the list
does not price gives no money figure."""

from __future__ import annotations

import copy
import re
import shutil
from datetime import date

import pytest
import yaml

from assessment.core.costs import CURRENCIES
from assessment.core.prices import (
    CURRENCY_CODES,
    DEFAULT_FILE,
    FIRM_SOURCE,
    NO_COST_TEXT,
    PRICED_BANDS,
    CostRange,
    PriceListError,
    add_ranges,
    cost_range,
    cost_range_for,
    default_price_list,
    firm_bands_problem,
    load_price_list,
    price_list_file,
    range_text,
    with_firm_prices,
)
from assessment.core.scoring import score
from assessment.report import ReportInput, cache_key

from .conftest import QUESTIONS, ROOT

RAW = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def prices():
    return default_price_list()


def write_list(folder, mutate) -> object:
    """The shipped list with one change, written to <folder>/prices/default.yaml."""
    data = copy.deepcopy(RAW)
    mutate(data)
    path = folder / "prices" / "default.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ---- the shipped list ------------------------------------------------------------------------

def test_shipped_list_is_the_one_beside_the_bank(prices):
    assert DEFAULT_FILE == price_list_file(QUESTIONS)
    assert default_price_list() is prices  # read once


def test_shipped_list_covers_every_band_and_currency(prices):
    assert set(CURRENCY_CODES) == set(CURRENCIES) - {"other"}
    assert set(prices.currencies) == set(CURRENCY_CODES)
    for code in CURRENCY_CODES:
        for band in PRICED_BANDS:
            r = prices.band(code, band)
            assert r is not None and 0 < r.low < r.high, (code, band)
        # Bands climb: each starts where the one below ends, or higher.
        assert prices.band(code, "low").high <= prices.band(code, "medium").low
        assert prices.band(code, "medium").high <= prices.band(code, "high").low


def test_every_figure_has_a_source_and_a_date(prices):
    for code in CURRENCY_CODES:
        for band in PRICED_BANDS:
            r = prices.band(code, band)
            assert r.basis and r.sources, (code, band)
            for source_id in r.sources:
                source = prices.sources[source_id]
                assert source.url and source.url.startswith("https://"), source_id
                assert source.publisher and source.figures
                assert source.date[:4] in ("2025", "2026"), (source_id, source.date)
    assert prices.updated[:4] in ("2025", "2026")
    used = {s for code in CURRENCY_CODES for band in PRICED_BANDS
            for s in prices.band(code, band).sources}
    assert used == set(prices.sources), "a source that no figure rests on"


def test_the_methodology_table_shows_the_files_figures(prices):
    doc = (ROOT / "docs" / "methodology.md").read_text(encoding="utf-8")
    for band in PRICED_BANDS:
        row = next(line for line in doc.splitlines() if line.startswith(f"| {band} |"))
        for code in ("usd", "gbp", "eur"):
            r = prices.band(code, band)
            shown = range_text(CostRange(r.low, r.high, code))
            assert shown in row, (band, code, shown, row)


# ---- mistakes in the file --------------------------------------------------------------------

def _swap_lows(d):
    d["currencies"]["gbp"]["medium"]["low"] = 5000


@pytest.mark.parametrize("mutate, where, message", [
    (_swap_lows, "currencies.gbp.medium", "low (5000) is more than high (3200)"),
    (lambda d: d["currencies"]["gbp"]["low"].update(colour="red"), "currencies.gbp.low.colour",
     "unknown key"),
    (lambda d: d["currencies"]["eur"]["high"].update(sources=["ecb_rates_2026_10_30", "nope"]),
     "currencies.eur.high.sources[1]", "no source 'nope' under 'sources'"),
    (lambda d: d["currencies"].pop("nzd"), "currencies", "no prices for 'nzd'"),
    (lambda d: d["currencies"].update(jpy=d["currencies"]["usd"]), "currencies.jpy",
     "'jpy' is not a currency of the questionnaire"),
    (lambda d: d["currencies"]["cad"]["low"].update(high="lots"), "currencies.cad.low.high",
     "valid number"),
    (lambda d: d["currencies"]["aud"]["low"].update(low=-5), "currencies.aud.low.low",
     "greater than or equal to 0"),
    (lambda d: d["currencies"]["usd"].pop("medium"), "currencies.usd.medium", "Field required"),
    (lambda d: d["sources"]["uk_it_support_2026"].update(date="last year"),
     "sources.uk_it_support_2026.date", "write the date as a year, a month or a day"),
    (lambda d: d["sources"]["uk_it_support_2026"].update(url="http://example.com"),
     "sources.uk_it_support_2026.url", "String should match pattern"),
    (lambda d: d.pop("reference_staff"), "reference_staff", "Field required"),
])
def test_mistakes_name_the_file_and_key_path(tmp_path, mutate, where, message):
    path = write_list(tmp_path, mutate)
    with pytest.raises(PriceListError) as caught:
        load_price_list(path)
    text = str(caught.value)
    assert f"prices/default.yaml: {where}: " in text, text
    assert message in text, text


def test_a_file_that_is_not_yaml_says_where(tmp_path):
    path = tmp_path / "prices" / "default.yaml"
    path.parent.mkdir()
    path.write_text("title: [broken\n", encoding="utf-8")
    with pytest.raises(PriceListError, match=r"prices/default.yaml: line 2, column 1: not valid"):
        load_price_list(path)


def test_unquoted_dates_read_as_text(tmp_path):
    path = write_list(tmp_path, lambda d: d.update(updated=date(2026, 12, 7)))
    assert load_price_list(path).updated == "2026-12-07"


@pytest.fixture
def bank_copy(tmp_path):
    folder = tmp_path / "questions"
    shutil.copytree(QUESTIONS, folder)
    return folder


def test_bank_check_validates_the_price_list(runner, bank_copy):
    result = runner.invoke(args=["bank", "check", str(bank_copy)])
    assert result.exit_code == 0, result.output
    assert "ok: price list of" in result.output


def test_bank_check_names_a_mistake_in_the_price_list(runner, bank_copy):
    write_list(bank_copy, _swap_lows)
    result = runner.invoke(args=["bank", "check", str(bank_copy)])
    assert result.exit_code == 1
    assert ("questions/prices/default.yaml: currencies.gbp.medium: low (5000) is more than "
            "high (3200)") in result.output
    assert "Traceback" not in result.output


# ---- ranges ----------------------------------------------------------------------------------

def test_a_band_gives_its_range_in_the_currency(prices):
    r = cost_range("medium", False, 40, "gbp", prices)
    band = prices.band("gbp", "medium")
    assert r == CostRange(band.low, band.high, "gbp")  # not per person: size does not matter


def test_per_person_costs_scale_with_staff(prices):
    band = prices.band("usd", "low")
    at_reference = cost_range("low", True, prices.reference_staff, "usd", prices)
    assert at_reference == CostRange(band.low, band.high, "usd")
    double = cost_range("low", True, 2 * prices.reference_staff, "usd", prices)
    assert double == CostRange(2 * band.low, 2 * band.high, "usd")
    five = cost_range("low", True, 5, "usd", prices)
    assert five.low == pytest.approx(band.low * 5 / prices.reference_staff)
    assert five.high == pytest.approx(band.high * 5 / prices.reference_staff)


@pytest.mark.parametrize("staff", [None, 0, -3, float("nan"), "twelve", True])
def test_without_a_staff_count_the_default_is_assumed(prices, staff):
    band = prices.band("eur", "high")
    r = cost_range("high", True, staff, "eur", prices, default_staff=30)
    factor = 30 / prices.reference_staff
    assert r == CostRange(band.low * factor, band.high * factor, "eur")


@pytest.mark.parametrize("currency", ["other", None, "jpy", ""])
def test_a_currency_without_prices_gives_no_money_figure(prices, currency):
    assert cost_range("low", False, 10, currency, prices) is None
    assert cost_range("none", False, 10, currency, prices) is None


def test_no_band_gives_nothing_and_none_costs_nothing(prices):
    assert cost_range(None, True, 10, "gbp", prices) is None
    assert cost_range("enormous", False, 10, "gbp", prices) is None
    nothing = cost_range("none", True, 10, "gbp", prices)
    assert nothing == CostRange(0, 0, "gbp")
    assert range_text(nothing) == NO_COST_TEXT == "No cost beyond time"


def test_a_recommendation_brings_its_band_and_per_person_flag(bank, prices):
    recs = {r.id: r for q in bank.questions for r in q.recommendations}
    manager = recs["roll_out_password_manager"]
    assert manager.per_person and manager.cost == "medium"
    assert cost_range_for(manager, 30, "gbp", prices) == \
        cost_range("medium", True, 30, "gbp", prices)
    fee = recs["compare_fixed_fee"]
    assert not fee.per_person
    assert cost_range_for(fee, 30, "gbp", prices) == cost_range("high", False, 30, "gbp", prices)


def test_per_person_costs_in_the_bank_are_licences_courses_and_protection(bank):
    per_person = {r.id for q in bank.questions for r in q.recommendations if r.per_person}
    assert {"roll_out_password_manager", "mfa_email_everyone", "install_endpoint",
            "start_training"} <= per_person
    assert "retire_unsupported" not in per_person  # only the old computers, not one each


def test_phase_totals_add_lows_and_highs(prices):
    a = cost_range("low", False, 10, "gbp", prices)
    b = cost_range("medium", True, 10, "gbp", prices)
    total = add_ranges([a, None, b])
    assert total == CostRange(a.low + b.low, a.high + b.high, "gbp")
    assert add_ranges([]) is None
    assert add_ranges([None], currency="usd") == CostRange(0, 0, "usd")
    with pytest.raises(ValueError):
        add_ranges([a, cost_range("low", False, 10, "usd", prices)])


@pytest.mark.parametrize("low, high, currency, text", [
    (200, 600, "gbp", "£200–£600"),
    (1234, 3456, "gbp", "£1,200–£3,500"),
    (8, 72, "usd", "$8–$75"),
    (4300, 27000, "eur", "€4,300–€27,000"),
    (12_345, 98_765, "nzd", "$12,000–$99,000"),
    (500, 500, "cad", "about $500"),
    (0, 0, "aud", "No cost beyond time"),
])
def test_ranges_read_as_plain_money(low, high, currency, text):
    assert range_text(CostRange(low, high, currency)) == text
    assert CostRange(low, high, currency).text() == text


def test_no_range_reads_as_nothing():
    assert range_text(None) == ""


# ---- a firm's own figures --------------------------------------------------------------------

def test_a_firms_figures_replace_one_currency_only(prices):
    bands = {"low": (50, 400), "medium": (400, 2000), "high": (2000, 9000)}
    firm = with_firm_prices(prices, "Northgate IT", "gbp", bands, "2026-12-07")
    assert firm.band("gbp", "medium").low == 400 and firm.band("gbp", "high").high == 9000
    assert firm.band("gbp", "low").sources == (FIRM_SOURCE,)
    assert firm.sources[FIRM_SOURCE].title == "Prices set by Northgate IT"
    assert firm.currencies["usd"] == prices.currencies["usd"]
    assert cost_range("low", False, 10, "gbp", firm) == CostRange(50, 400, "gbp")


@pytest.mark.parametrize("currency, bands, ok", [
    ("gbp", {"low": [1, 2], "medium": [2, 3], "high": [3, 4]}, True),
    ("other", {"low": [1, 2], "medium": [2, 3], "high": [3, 4]}, False),
    ("gbp", {"low": [1, 2], "medium": [2, 3]}, False),
    ("gbp", {"low": [2, 1], "medium": [2, 3], "high": [3, 4]}, False),
    ("gbp", {"low": [-1, 2], "medium": [2, 3], "high": [3, 4]}, False),
    ("gbp", {"low": ["1", 2], "medium": [2, 3], "high": [3, 4]}, False),
    ("gbp", "low", False),
])
def test_stored_firm_figures_are_checked_on_the_way_out(currency, bands, ok):
    assert (firm_bands_problem(currency, bands) is None) is ok


# ---- the report carries its price list -------------------------------------------------------

def test_a_report_uses_the_shipped_list_unless_told_otherwise(bank, prices):
    result = score(bank, {})
    report = ReportInput(result=result)
    assert report.prices is prices
    firm = with_firm_prices(prices, "Northgate IT", "usd",
                            {"low": (1, 2), "medium": (2, 3), "high": (3, 4)}, "2026-12-07")
    other = ReportInput(result=result, prices=firm)
    assert other.prices is firm
    assert cache_key(other) != cache_key(report)  # a PDF made with other prices is not reused
    with pytest.raises(TypeError):
        ReportInput(result=result, prices={"low": (1, 2)})


def test_the_price_list_file_has_no_machine_paths():
    text = DEFAULT_FILE.read_text(encoding="utf-8")
    assert not re.search(r"/(home|tmp|work|usr)/", text)
