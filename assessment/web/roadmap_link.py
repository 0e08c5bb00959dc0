"""The owner's private roadmap link: their actions and score trend, without an account."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("roadmap_link", __name__)
