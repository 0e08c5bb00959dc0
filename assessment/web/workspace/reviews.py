"""Quarterly reviews (QBR) of a client: prepared, decided, locked, and their review pack PDF."""

from __future__ import annotations
