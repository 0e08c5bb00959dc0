"""The owner's private roadmap link, as the firm manages it: make, replace, cancel."""

from __future__ import annotations
