"""The yes/no questions of delete, drop and alter (default: no)."""

from __future__ import annotations


def ask_yes(question: str) -> bool:
    """Ask ``question``; only an answer of ``yes`` (any case) counts as yes."""
    return input(f"{question} [yes, No]: ").strip().lower() == "yes"
