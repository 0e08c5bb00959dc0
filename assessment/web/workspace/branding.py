"""The firm's branding (admins): name, colours, contact line, disclaimer and logo on every
report of its clients, and a sample report to check them."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ...core.bank import Answer
from ...core.scoring import score
from ...report import DEFAULT_BRANDING, RenderError, ReportInput, content_disposition
from ...storage import accounts
from ...storage.accounts import AccountError
from ...support.branding import MAX_BYTES as MAX_LOGO_BYTES
from ...support.branding import LogoError, clean_logo, contrast_warnings, valid_colour
from .. import reports
from ..auth import admin_required, current_firm_id, member_required
from ..db import current_bank, get_db
from ..names import Name
from .common import bp, one_line

MAX_LOGO_MB = MAX_LOGO_BYTES // (1024 * 1024)


class BrandingForm(FlaskForm):
    name = StringField("Firm name, as it appears on reports", validators=[
        DataRequired("Enter your firm's name."), Name("your firm's name", limit=120),
        Length(max=120, message="Keep the name under 120 characters.")])
    primary_colour = StringField("Primary colour (cover and headings)",
                                 validators=[DataRequired("Enter a colour like #0d5c63.")])
    accent_colour = StringField("Accent colour (highlights)",
                                validators=[DataRequired("Enter a colour like #b5541b.")])
    contact_line = StringField("Contact line (for example phone and email)", validators=[
        Length(max=200, message="Keep the contact line under 200 characters.")])
    disclaimer = TextAreaField("Footer disclaimer", validators=[
        Length(max=400, message="Keep the disclaimer under 400 characters.")])
    logo = FileField("Logo (PNG or JPEG, at most 2 MB)")
    remove_logo = BooleanField("Remove the current logo")

    def validate_name(self, field):
        if not one_line(field.data):
            raise ValidationError("Enter your firm's name in letters or digits.")

    def validate_primary_colour(self, field):
        if not valid_colour(field.data):
            raise ValidationError("Write the colour as # and six hex digits, like #0d5c63.")

    def validate_accent_colour(self, field):
        if not valid_colour(field.data):
            raise ValidationError("Write the colour as # and six hex digits, like #b5541b.")


def _branding_page(form: BrandingForm, status: int = 200):
    firm = accounts.firm_branding(get_db(), current_firm_id())
    primary = firm["primary_colour"] or DEFAULT_BRANDING.primary
    accent = firm["accent_colour"] or DEFAULT_BRANDING.accent
    return render_template("workspace/branding.html", title="Branding", form=form, firm=firm,
                           primary=primary, accent=accent,
                           warnings=contrast_warnings(primary, accent)), status


@bp.get("/branding")
@admin_required
def branding():
    return _branding_page(BrandingForm(data=_branding_data()))


def _branding_data() -> dict:
    firm = accounts.firm_branding(get_db(), current_firm_id())
    return {"name": firm["name"],
            "primary_colour": firm["primary_colour"] or DEFAULT_BRANDING.primary,
            "accent_colour": firm["accent_colour"] or DEFAULT_BRANDING.accent,
            "contact_line": firm["contact_line"] or "",
            "disclaimer": firm["disclaimer"] or DEFAULT_BRANDING.disclaimer}


@bp.post("/branding")
@admin_required
def save_branding():
    form = BrandingForm()
    logo = ...
    if form.validate():
        upload = form.logo.data
        if form.remove_logo.data:
            logo = None
        elif upload and upload.filename:
            try:
                # All of it (the request size limit bounds it), so a refusal can say its size.
                logo = clean_logo(upload.read())
            except LogoError as error:
                form.logo.errors.append(str(error))
    if form.errors:
        return _branding_page(form, 422)
    try:
        accounts.update_branding(
            get_db(), current_firm_id(), name=one_line(form.name.data), logo=logo,
            primary_colour=form.primary_colour.data.lower(),
            accent_colour=form.accent_colour.data.lower(),
            contact_line=one_line(form.contact_line.data),
            disclaimer=one_line(form.disclaimer.data))
    except AccountError as error:  # the name is another firm's
        form.name.errors.append(error.message)
        return _branding_page(form, 422)
    flash("Saved. Every report of your clients now carries this branding.", "success")
    return redirect(url_for("workspace.branding"), 303)


def logo_too_large(size: int | None):
    """A branding form larger than the app accepts at all (413): the page again, saying why."""
    form = BrandingForm(formdata=None, data=_branding_data())
    form.logo.errors = [
        (f"The upload is {size / 1024 / 1024:.1f} MB" if size else "The upload is too large")
        + f"; the limit for a logo is {MAX_LOGO_MB} MB. Save a smaller version and upload that."]
    return _branding_page(form, 413)


@bp.get("/branding/logo")
@member_required
def branding_logo():
    firm = accounts.firm_branding(get_db(), current_firm_id())
    if not firm or not firm["logo"]:
        abort(404)
    return Response(firm["logo"], mimetype="image/png")


@bp.get("/branding/preview.pdf")
@member_required
def branding_preview():
    """A sample report with the firm's branding, to check the cover before a client sees it."""
    bank = current_bank()
    sample = score(bank, {q.id: Answer("answered", q.choices[0].id) for q in bank.questions
                          if q.type in ("single", "yesno")})
    report = ReportInput(result=sample, business_name="Example client",
                         branding=reports.branding_of(get_db(), current_firm_id()),
                         prices=reports.prices_of(get_db(), current_firm_id()))
    try:
        pdf = reports.cache().get_or_render(report)
    except RenderError:
        abort(503)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": content_disposition("Example client")})
