"""Shared fixtures: the shipped bank, a throwaway app and database, a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assessment import create_app
from assessment.bank import load_bank
from assessment.storage import connect, migrate

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "questions"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BANK_FIXTURES = Path(__file__).resolve().parent / "bank_fixtures"


@pytest.fixture(scope="session")
def bank():
    """The shipped bank, loaded once."""
    return load_bank(QUESTIONS)


@pytest.fixture
def mini_bank_dir(tmp_path):
    """A copy of the small valid bank in tests/bank_fixtures/mini, free to modify."""
    target = tmp_path / "mini"
    shutil.copytree(BANK_FIXTURES / "mini", target)
    return target


@pytest.fixture
def mini_bank(mini_bank_dir):
    return load_bank(mini_bank_dir)


@pytest.fixture
def db(tmp_path):
    """A real SQLite file with the schema applied."""
    database = connect(tmp_path / "test.sqlite")
    migrate(database)
    yield database
    database.close()


@pytest.fixture
def app(tmp_path):
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                       "DATABASE": str(tmp_path / "app.sqlite")})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
