"""Docs that tests keep honest: every bank field, type, operator, cost input and CLI command is
documented where a reader would look for it."""

from __future__ import annotations

import re

import pytest

from assessment.cli import assess_cli, bank_cli, db_cli
from assessment.cli.reports import report_cli
from assessment.cli.roadmap import roadmap_cli
from assessment.cli.users import users_cli
from assessment.core.bank import models
from assessment.core.bank.conditions import OPERATORS
from assessment.core.bank.types import QUESTION_TYPES
from assessment.core.costs import COST_INPUTS

from .conftest import ROOT

BANK_FORMAT = (ROOT / "docs" / "bank-format.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")

MODELS = [models.BankFile, models.Band, models.SeverityRule, models.Escalation,
          models.PlanRules, models.CapacityRow, models.SectionRef, models.ProviderQuestion,
          models.Section, models.Question, models.Choice, models.NumberBand,
          models.Recommendation, models.CriticalRule, models.NotSureEffect, models.LesserFinding,
          models.ProviderFollowUp, models.Workstream, models.StepLimitRow,
          models.CombinedStep]


def section_of(doc: str, heading: str) -> str:
    match = re.search(rf"^## `{heading}`.*?$(.*?)(?=^## |\Z)", doc, re.S | re.M)
    assert match, f"docs/bank-format.md has no '## `{heading}`' section"
    return match.group(1)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_bank_field_is_documented(model):
    text = section_of(BANK_FORMAT, model.__name__)
    missing = [name for name in model.model_fields if f"`{name}`" not in text]
    assert not missing, f"{model.__name__} fields not in docs/bank-format.md: {missing}"


def test_every_question_type_operator_and_cost_input_is_documented():
    for name in list(QUESTION_TYPES) + list(OPERATORS) + list(COST_INPUTS):
        assert f"`{name}`" in BANK_FORMAT, name


def test_every_cli_command_is_in_the_readme():
    for group in (bank_cli, db_cli, assess_cli, users_cli, report_cli, roadmap_cli):
        for command in group.commands:
            assert f"flask --app app {group.name} {command}" in README, (group.name, command)


def test_every_environment_variable_is_in_the_readme():
    from assessment.support.config import defaults

    for key in defaults("instance"):
        assert f"ITHEALTH_{key}" in README, key


def test_the_weights_table_in_the_methodology_is_the_banks():
    """docs/methodology.md shows each question's share of the overall score; the table must be
    the one the shipped bank gives (regenerate with `flask --app app bank weights`)."""
    from assessment.core.bank import load_bank
    from assessment.core.bank.weights import shares_table

    doc = (ROOT / "docs" / "methodology.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- weights table:.*?-->\n(.*?)\n<!-- end of weights table -->", doc,
                      re.S).group(1)
    assert table == shares_table(load_bank(ROOT / "questions"))
