"""Class names and table names: the CamelCase ↔ snake_case conversions of SPEC §3.1."""

from __future__ import annotations

import re

__all__ = ["to_camel_case", "to_snake_case"]


def to_snake_case(name: str) -> str:
    """``MyTable`` -> ``my_table``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def to_camel_case(name: str) -> str:
    """``my_table`` -> ``MyTable``."""
    return "".join(part.capitalize() for part in name.split("_") if part)
