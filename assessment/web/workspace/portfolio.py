"""The portfolio across the firm's clients, and a client's roadmap exported (CSV, JSON)."""

from __future__ import annotations
