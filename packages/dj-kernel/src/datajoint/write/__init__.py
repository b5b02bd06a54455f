"""Writes with integrity: insert helpers, validate, update1, cascade delete, drop and alter.

Each call is all or nothing: it runs in one transaction, or in a savepoint of the caller's
transaction (see :mod:`datajoint.write.atomic`).
"""

from __future__ import annotations

from .validate import ValidationResult

__all__ = ["ValidationResult"]
