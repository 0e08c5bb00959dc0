"""The firm's price list (admins): its own range for each cost band, in one currency, or the
typical prices the product ships with."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice

from ...core.bank.types import format_number, read_number
from ...core.costs import CURRENCIES
from ...core.prices import (
    CURRENCY_CODES,
    CURRENCY_NAMES,
    MAX_AMOUNT,
    PRICED_BANDS,
    default_price_list,
    firm_bands_problem,
)
from ...core.prices import money as prices_money
from ...storage import accounts
from ...support.audit import audit
from ..auth import admin_required, current_firm_id
from ..db import get_db
from .common import bp

BAND_WORDS = {"low": "Low cost", "medium": "Medium cost", "high": "High cost"}
END_WORDS = {"low": "lowest", "high": "highest"}


class PriceListForm(FlaskForm):
    """The firm's own range for each cost band, in one currency. Every figure empty: the
    shipped price list. Amounts are read as owners' figures are ("1,200", "£1 200")."""

    currency = SelectField("Currency of your prices", validate_choice=False, choices=[
        SelectChoice("", "Choose a currency")] + [
        SelectChoice(code, f"{CURRENCY_NAMES[code]} ({CURRENCIES[code]})")
        for code in CURRENCY_CODES])
    low_low = StringField("From")
    low_high = StringField("To")
    medium_low = StringField("From")
    medium_high = StringField("To")
    high_low = StringField("From")
    high_high = StringField("To")

    def amount_fields(self):
        return [(band, end, self[f"{band}_{end}"]) for band in PRICED_BANDS
                for end in ("low", "high")]

    def validate(self, extra_validators=None):
        """Each amount a number from 0 up, the lower first; all six or none. `self.bands`:
        band -> (low, high), empty when the firm goes back to the shipped list."""
        ok = super().validate(extra_validators)
        self.bands = {}
        typed = [f for _, _, f in self.amount_fields() if (f.data or "").strip()]
        if not typed:
            return ok
        if self.currency.data not in CURRENCY_CODES:
            self.currency.errors.append("Choose the currency your prices are in.")
        amounts = {}
        for band, end, f in self.amount_fields():
            amount = _amount(f, f"the {END_WORDS[end]} figure for {BAND_WORDS[band].lower()}")
            if amount is not None:
                amounts[(band, end)] = amount
        for band in PRICED_BANDS:
            low, high = amounts.get((band, "low")), amounts.get((band, "high"))
            if low is not None and high is not None:
                if low > high:
                    self[f"{band}_low"].errors.append(
                        f"For {BAND_WORDS[band].lower()}, the first figure "
                        f"({format_number(low)}) is more than the second "
                        f"({format_number(high)}). Put the lower figure first.")
                else:
                    self.bands[band] = (low, high)
        return ok and not any(f.errors for f in self)


def _amount(f, where: str) -> float | None:
    """The amount typed in `f`, or None with the field's error saying what to type instead."""
    text = (f.data or "").strip()
    if not text:
        f.errors.append(f"Enter {where} too, or leave every figure empty to use the typical "
                        "prices.")
        return None
    readings = read_number(text) if len(text) <= 40 else ()
    if not readings:
        f.errors.append(f"Enter {where} in digits, like 1200 or 1,200.")
    elif len(readings) > 1:
        f.errors.append(f"For {where}, “{text}” can be read as "
                        f"{format_number(readings[0])} or {format_number(readings[1])}. "
                        f"Type it without the dot, like "
                        f"{format_number(readings[0]).replace(',', '')}.")
    elif readings[0] < 0:
        f.errors.append(f"Enter {where} as 0 or more: a cost cannot be negative.")
    elif readings[0] > MAX_AMOUNT:
        f.errors.append(f"Enter {where} under {MAX_AMOUNT:,}.")
    else:
        return readings[0]
    return None


def _prices_data(saved: dict | None) -> dict:
    """The form's fields for what the firm saved (none for figures that cannot be used)."""
    if not saved or firm_bands_problem(saved.get("currency"), saved.get("bands")):
        return {}
    data = {"currency": saved.get("currency") or ""}
    for band, pair in (saved.get("bands") or {}).items():
        for end, value in zip(("low", "high"), pair, strict=True):
            data[f"{band}_{end}"] = format_number(value).replace(",", "")
    return data


def _prices_page(form: PriceListForm, status: int = 200):
    saved = accounts.firm_price_list(get_db(), current_firm_id())
    if saved and firm_bands_problem(saved.get("currency"), saved.get("bands")):
        saved = None  # what reports do with it too (reports.prices_of)
    typical = default_price_list()
    return render_template(
        "workspace/prices.html", title="Prices", form=form, saved=saved, typical=typical,
        bands=PRICED_BANDS, band_words=BAND_WORDS, currency_names=CURRENCY_NAMES,
        currencies=CURRENCY_CODES, money=prices_money), status


@bp.get("/prices")
@admin_required
def prices():
    saved = accounts.firm_price_list(get_db(), current_firm_id())
    return _prices_page(PriceListForm(data=_prices_data(saved)))


@bp.post("/prices")
@admin_required
def save_prices():
    form = PriceListForm()
    if "use_typical" in request.form:  # the CSRF token was checked before the view
        accounts.set_firm_price_list(get_db(), current_firm_id())
        audit("price_list_reset", member=current_user.id)
        flash("Your clients' reports now use the typical prices.", "success")
        return redirect(url_for("workspace.prices"), 303)
    if not form.validate():
        return _prices_page(form, 422)
    accounts.set_firm_price_list(get_db(), current_firm_id(), form.currency.data or None,
                                 form.bands or None)
    audit("price_list_saved", currency=form.currency.data if form.bands else None,
          member=current_user.id)
    flash("Saved. Your clients' reports now work out costs with your prices."
          if form.bands else "Saved. Your clients' reports use the typical prices.", "success")
    return redirect(url_for("workspace.prices"), 303)
