"""The firm's settings (admins): the time zone the workspace shows times in."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import ValidationError

from ...storage import accounts
from ...support import zones
from ...support.audit import audit
from .. import dates
from ..auth import admin_required, current_firm_id
from ..db import get_db
from .common import bp


class SettingsForm(FlaskForm):
    time_zone = SelectField("Your firm's time zone", validate_choice=False)

    def validate_time_zone(self, field):
        if not zones.valid_zone(field.data):
            raise ValidationError("Choose a time zone from the list, such as Europe/London.")


def _settings_form(**kwargs) -> SettingsForm:
    form = SettingsForm(**kwargs)
    form.time_zone.choices = [(name, name.replace("_", " ")) for name in zones.zone_names()]
    return form


def _settings_page(form: SettingsForm, status: int = 200):
    saved = accounts.firm_time_zone(get_db(), current_firm_id())
    return render_template("workspace/settings.html", title="Settings", form=form,
                           saved=saved if zones.valid_zone(saved) else None,
                           example=dates.day_time(datetime.now(UTC).isoformat())), status


@bp.get("/settings")
@admin_required
def settings():
    saved = accounts.firm_time_zone(get_db(), current_firm_id())
    return _settings_page(_settings_form(data={"time_zone": saved or "UTC"}))


@bp.post("/settings")
@admin_required
def save_settings():
    form = _settings_form()
    if not form.validate():
        return _settings_page(form, 422)
    name = form.time_zone.data
    accounts.set_firm_time_zone(get_db(), current_firm_id(), name)
    audit("time_zone_saved", time_zone=name, member=current_user.id)
    moment = datetime.now(zones.zone_of(name))
    flash(f"Saved. Your workspace now shows times in {name.replace('_', ' ')}, such as "
          f"{moment:%H:%M} {dates.abbreviation(moment)} now.", "success")
    return redirect(url_for("workspace.settings"), 303)
