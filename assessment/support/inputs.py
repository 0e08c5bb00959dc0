"""What a typed email, password or name must be: one answer, whoever asks (the sign-in and
invite forms, the firm's member and client pages, `flask users create`, the audit log).

Names (people, firms, clients) are kept as Unicode's composed form (NFC), so "é" typed two ways
is one name; characters nobody types on purpose are refused rather than stored: control
characters and the invisible format characters that reorder or hide text (bidi overrides,
zero-width spaces), and words that mix look-alike alphabets ("Advіsory" with a Cyrillic "і").
Firm names are compared by their skeleton, so a look-alike of another firm's name is refused.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from importlib import resources

from confusable_homoglyphs import categories, confusables
from zxcvbn import zxcvbn

PASSWORD_MIN = 12
PASSWORD_MAX = 1024  # argon2 takes any length; this only bounds the work one request can cause
# zxcvbn's score: 0-1 means found in lists of leaked passwords or built from keyboard runs,
# repeats and dates, with at most a million guesses; a long password that scores so low is
# still among the first an attacker tries.
PASSWORD_GUESSABLE_BELOW = 2
# zxcvbn estimates at most this many characters (its cost grows with length); a password that
# starts with 72 strong ones is strong.
PASSWORD_CHECKED_LENGTH = 72
NAME_MAX = 200
EMAIL_MAX = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def email_problem(email: str) -> str | None:
    email = normalise_email(email)
    if not email:
        return "Enter an email address."
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        return "Enter an email address like name@example.com."
    return None


def password_problem(password: str, email: str = "", *, name: str = "") -> str | None:
    """Why a new password cannot be used, or None. Length is counted in characters. Checked
    offline: nothing about the password leaves the machine."""
    if not password:
        return "Enter a password."
    if len(password) < PASSWORD_MIN:
        return (f"Use at least {PASSWORD_MIN} characters; a few unrelated words make a long "
                "password that is easy to remember.")
    if len(password) > PASSWORD_MAX:
        return f"Use at most {PASSWORD_MAX} characters."
    if email and password.strip().lower() == normalise_email(email):
        return "Do not use your email address as your password."
    local_part = normalise_email(email).split("@")[0]
    own_words = [word for word in (normalise_email(email), local_part, "".join(name.split()),
                                   *re.split(r"[\W_]+", local_part), *name.split()) if word]
    guess = zxcvbn(password[:PASSWORD_CHECKED_LENGTH], user_inputs=own_words)
    if guess["score"] < PASSWORD_GUESSABLE_BELOW:
        return ("This password is one that is guessed early: it is in lists of leaked "
                "passwords, or made of a keyboard run, a repeat or your own name or email. "
                "Use a few unrelated words instead.")
    return None


# ---- names ----------------------------------------------------------------------------------

def clean_name(value: str | None) -> str:
    """A typed name as it is kept: surrounding spaces removed, in composed form (NFC)."""
    return unicodedata.normalize("NFC", (value or "").strip())


def hidden_character(value: str) -> str | None:
    """The first character of `value` that no one types on purpose, as U+XXXX, or None:
    control characters (line breaks included: a name is one line) and format characters
    (bidi overrides and isolates, zero-width spaces and joiners, the byte-order mark)."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp"):
            return f"U+{ord(char):04X}"
    return None


_LOOKALIKE_ALPHABETS = {"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"}


def mixed_alphabet_word(value: str) -> str | None:
    """The first word that mixes look-alike alphabets (Latin with Cyrillic or Greek, say) and
    has a letter that imitates one of the other alphabet's, or None. Words of one alphabet,
    and scripts written together on purpose (kanji with kana), pass."""
    for word in value.split():
        alphabets = {categories.alias(char) for char in word if char.isalpha()}
        if len(alphabets & _LOOKALIKE_ALPHABETS) > 1 and confusables.is_dangerous(word):
            return word
    return None


def name_problem(name: str | None, *, what: str = "name", limit: int = NAME_MAX) -> str | None:
    """Why a typed name cannot be kept, or None. `what` names it in the message ("the firm's
    name")."""
    name = clean_name(name)
    if not name:
        return f"Enter {_article(what)}."
    if len(name) > limit:
        return f"Keep {_the(what)} under {limit} characters."
    hidden = hidden_character(name)
    if hidden:
        return (f"{_the(what).capitalize()} holds a hidden character ({hidden}), perhaps from "
                "copying and pasting; type it again.")
    word = mixed_alphabet_word(name)
    if word:
        return (f"“{word}” mixes letters of different alphabets that look alike; type "
                f"{_the(what)} again in one alphabet.")
    return None


def _article(what: str) -> str:
    return what if what.startswith(("the ", "your ")) else f"a {what}"


def _the(what: str) -> str:
    return what if what.startswith(("the ", "your ")) else f"the {what}"


@lru_cache(maxsize=1)
def _prototypes() -> dict[str, str]:
    """Each character that imitates an ASCII letter or digit, mapped to it (from Unicode's
    confusables data, as the homoglyph package ships it); and the ASCII characters that imitate
    each other (I, 1 and | look like l; 0 like o)."""
    data = json.loads(resources.files(confusables.__package__)
                      .joinpath("confusables.json").read_text(encoding="utf-8"))
    table: dict[str, str] = {}
    for char, homoglyphs in data.items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_twins = sorted(h["c"] for h in homoglyphs
                             if len(h["c"]) == 1 and h["c"].isascii() and h["c"].isalnum())
        if ascii_twins:
            table[char] = ascii_twins[0]
    table.update({"I": "l", "1": "l", "|": "l", "0": "o", "O": "o"})
    return table


def name_skeleton(name: str) -> str:
    """What a name looks like, for telling whether two names could be mistaken for each other:
    accents and case set aside, look-alike letters folded onto one ("Alpha Advіsory" with a
    Cyrillic "і", "A1pha Advisory" and "ALPHA ADVISORY" all have the skeleton of "Alpha
    Advisory"), runs of spaces made one, "rn" read as "m"."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFKD", clean_name(name))
    letters = "".join(prototypes.get(char, char) for char in decomposed
                      if not unicodedata.combining(char))
    folded = " ".join(letters.casefold().split())
    return folded.replace("rn", "m").replace("i", "l")
