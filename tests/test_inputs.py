"""The rules for what people type as passwords and names (support/inputs.py): what is refused,
with a message that says what to do, and what must keep working for real people's names."""

from __future__ import annotations

import unicodedata

import pytest

from assessment.support.inputs import (clean_name, name_problem, name_skeleton,
                                       password_problem)


@pytest.mark.parametrize("password", [
    "password1234", "qwertyuiop123", "123456789012", "aaaaaaaaaaaaaaaa", "1qaz2wsx3edc4rfv",
    "Password123!", "letmeinletmein", "abcdefghijklmnop",
])
def test_passwords_guessed_early_are_refused_with_what_to_do(password):
    problem = password_problem(password)
    assert problem is not None and "guessed early" in problem
    assert "Use a few unrelated words instead." in problem


def test_a_password_made_of_the_members_own_name_or_email_is_refused():
    assert password_problem("ana.northgate2026", "ana.northgate@example.com")
    assert password_problem("AnaNorthgate!!", "someone@example.com", name="Ana Northgate")


@pytest.mark.parametrize("password", [
    "correct horse battery staple", "tulip-radiator-seven-canoe", "Mein Hund heißt Bruno!",
    "q8#Lw2!vZr9@xT", "the kettle sings at seven",
])
def test_strong_passwords_and_passphrases_are_taken(password):
    assert password_problem(password, "ana@northgate.example", name="Ana") is None


def test_the_length_limits_keep_their_messages():
    assert password_problem("short").startswith("Use at least 12 characters")
    assert password_problem("x" * 1025) == "Use at most 1024 characters."
    # A very long password is only estimated over its first 72 characters: taken, and quickly.
    assert password_problem("tulip radiator seven canoe " * 37) is None


@pytest.mark.parametrize("name", [
    "Zoë Ølstad", "José Núñez", "Ελένη Παπαδοπούλου", "Дмитрий Иванов", "山田 太郎",
    "東京タワー歯科", "O'Brien & Sons", "Müller-Lüdenscheidt GmbH", "Nguyễn Thị Minh Khai",
    "محمد العلي",
])
def test_real_names_in_any_alphabet_are_taken(name):
    assert name_problem(name) is None


def test_a_name_is_kept_in_composed_form():
    typed = "Zoe\u0308 Clinic"  # "ë" typed as e + combining diaeresis
    assert clean_name(f"  {typed} ") == "Zo\u00eb Clinic"
    assert unicodedata.is_normalized("NFC", clean_name(typed))


@pytest.mark.parametrize("name, shown", [
    ("Alpha\u202eyrosivdA", "U+202E"),  # right-to-left override: shows as "AlphaAdvisory"
    ("Alpha\u200bAdvisory", "U+200B"),  # zero-width space
    ("Alpha\u2066Advisory", "U+2066"),  # left-to-right isolate
    ("Alpha\nAdvisory", "U+000A"),
    ("Alpha\x00Advisory", "U+0000"),
    ("\ufeffAlpha Advisory", "U+FEFF"),
])
def test_hidden_characters_are_refused_and_named(name, shown):
    problem = name_problem(name, what="the firm's name")
    assert problem == (f"The firm's name holds a hidden character ({shown}), perhaps from "
                       "copying and pasting; type it again.")


def test_a_word_mixing_look_alike_alphabets_is_refused():
    problem = name_problem("Alpha Adv\u0456sory", what="the firm's name")
    assert problem == ("“Adv\u0456sory” mixes letters of different alphabets that look "
                       "alike; type the firm's name again in one alphabet.")
    assert name_problem("Ol\u0435na Kovalenko")  # Cyrillic "е" inside a Latin word


def test_empty_and_long_names_keep_their_messages():
    assert name_problem("   ") == "Enter a name."
    assert name_problem("x" * 201) == "Keep the name under 200 characters."
    assert name_problem("", what="the firm's name") == "Enter the firm's name."


@pytest.mark.parametrize("look_alike", [
    "Alpha Adv\u0456sory", "ALPHA ADVISORY", "A1pha Advisory", "Alpha  Advisory",
    "Alpha Advisorу",  # Cyrillic "у"
    "Álpha Advisory",
])
def test_look_alikes_of_a_firm_name_share_its_skeleton(look_alike):
    assert name_skeleton(look_alike) == name_skeleton("Alpha Advisory")


@pytest.mark.parametrize("other", ["Alpha Advisors", "Alpha Advisory Ltd", "Beta Advisory"])
def test_different_names_have_different_skeletons(other):
    assert name_skeleton(other) != name_skeleton("Alpha Advisory")
