"""How a declared column type is held in a STRICT SQLite table: storage class and CHECK rule.

SQLite's own typing is loose (a text in an integer column is kept as text), so every table is
``STRICT`` (each column one storage class) and each column carries one CHECK constraint, named
``dj:<column>``, holding the value to what MySQL and PostgreSQL accept for the same core type:
integer ranges, booleans as 0/1, float32 range, decimal precision, real calendar dates and
datetimes, 16-byte uuids, valid JSON, enum members and char/varchar lengths. The rules live in
the file, so they hold for every program that writes it, not only for DataJoint.

Decimals with at most 15 significant digits are ``REAL`` (a double holds 15 digits exactly and the
reader quantizes to the declared scale); wider ones are canonical text compared with the
``dj_decimal`` collation that :mod:`dj_backend_sqlite.driver` registers, so that restrictions,
ORDER BY, joins and min/max are numeric.
"""

from __future__ import annotations

import decimal
import re

#: the name of the CHECK constraint of a column: ``dj:<column>`` (read back by the errors module)
CHECK_PREFIX = "dj:"
#: the collation that compares decimal text numerically
DECIMAL_COLLATION = "dj_decimal"
#: the widest decimal stored as REAL: a double keeps 15 significant decimal digits exactly
MAX_REAL_DECIMAL_DIGITS = 15

_INT_RANGES = {
    "tinyint": (-(1 << 7), (1 << 7) - 1),
    "smallint": (-(1 << 15), (1 << 15) - 1),
    "mediumint": (-(1 << 23), (1 << 23) - 1),
    "int": (-(1 << 31), (1 << 31) - 1),
    "integer": (-(1 << 31), (1 << 31) - 1),
    "bigint": (-(1 << 63), (1 << 63) - 1),
}
_INT = re.compile(
    r"^(tiny|small|medium|big)?int(eger)?(\s*\(\s*\d+\s*\))?(\s+(unsigned))?(\s+zerofill)?$"
)
_DECIMAL = re.compile(r"^(?:decimal|numeric|dec|fixed)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?")
_LENGTH = re.compile(r"^(?:var)?char\s*\(\s*(\d+)\s*\)$")
_FLOAT32_MAX = 3.4028234663852886e38


def decimal_shape(sql_type: str) -> tuple[int, int] | None:
    """(precision, scale) of a decimal type (MySQL's defaults 10 and 0), or None."""
    match = _DECIMAL.match(sql_type.strip().lower())
    if match is None:
        return None
    return int(match.group(1) or 10), int(match.group(2) or 0)


def decimal_as_text(sql_type: str) -> bool:
    """Whether a decimal type is too wide for REAL and is stored as canonical text."""
    shape = decimal_shape(sql_type)
    return shape is not None and shape[0] > MAX_REAL_DECIMAL_DIGITS


def storage_class(sql_type: str) -> str:
    """The STRICT column type (``INT``, ``REAL``, ``TEXT`` or ``BLOB``) of a declared type.

    ``int`` (not ``integer``) keeps a single-column integer key from becoming a rowid alias,
    which would silently number rows whose key is missing.
    """
    t = sql_type.strip().lower()
    if decimal_shape(t) is not None:
        return "text" if decimal_as_text(t) else "real"
    if _INT.match(t) or t in ("bool", "boolean", "year", "serial"):
        return "int"
    if t.startswith(("float", "double", "real")):
        return "real"
    if "blob" in t or t.startswith(("binary", "varbinary")) or t == "bytea":
        return "blob"
    return "text"


def _decimal_rule(q: str, sql_type: str) -> str:
    precision, scale = decimal_shape(sql_type) or (10, 0)
    unsigned = "unsigned" in sql_type.lower()
    if not decimal_as_text(sql_type):
        # a REAL: the reader quantizes to the scale (MySQL and PostgreSQL round the same way)
        bound = f"{q} > -1e{precision - scale} AND {q} < 1e{precision - scale}"
        return bound + (f" AND {q} >= 0" if unsigned else "")
    # canonical text: an optional minus, digits, at most one point, at most p-s integer digits
    body = f"ltrim({q}, '-')"
    integer_part = f"substr({body}, 1, instr({body} || '.', '.') - 1)"
    rule = (
        f"{body} GLOB '[0-9]*' AND {body} NOT GLOB '*[^0-9.]*' AND {body} NOT GLOB '*.*.*' "
        f"AND substr({q}, 2) NOT GLOB '*-*' AND {body} NOT GLOB '*.' "
        f"AND length(ltrim({integer_part}, '0')) <= {precision - scale}"
    )
    return rule + (f" AND substr({q}, 1, 1) <> '-'" if unsigned else "")


def value_rule(q: str, sql_type: str, enum_values: tuple[str, ...] | None, literal) -> str | None:
    """The CHECK expression (for a non-NULL value) of a column whose quoted name is ``q``.

    ``literal`` turns a kernel-made string into a SQL string literal.
    """
    t = sql_type.strip().lower()
    if enum_values is not None:
        return f"{q} IN ({', '.join(literal(v) for v in enum_values)})"
    match = _INT.match(t)
    if match:
        low, high = _INT_RANGES[(match.group(1) or "") + "int"]
        if match.group(5):  # unsigned: twice the range (bigint stops at SQLite's 2**63 - 1)
            low, high = 0, min(high * 2 + 1, (1 << 63) - 1)
        return (
            None if (low, high) == (-(1 << 63), (1 << 63) - 1) else f"{q} BETWEEN {low} AND {high}"
        )
    if t in ("bool", "boolean"):
        return f"{q} IN (0, 1)"
    if t.startswith("float") and "unsigned" not in t:
        return f"abs({q}) <= {_FLOAT32_MAX!r}"
    if decimal_shape(t) is not None:
        return _decimal_rule(q, t)
    length = _LENGTH.match(t)
    if length:
        return f"length({q}) <= {int(length.group(1))}"
    if t == "date":
        # date() alone keeps 2023-02-29; the round trip through the day number does not
        return f"{q} IS date(julianday({q}))"
    if t.startswith(("datetime", "timestamp")):
        # ISO text as the encoder writes it: seconds, then optionally six fractional digits
        return (
            f"substr({q}, 1, 19) IS datetime({q}) AND "
            f"substr({q}, 1, 10) IS date(julianday(substr({q}, 1, 10))) AND "
            f"(length({q}) = 19 OR (length({q}) = 26 AND substr({q}, 20) GLOB '.[0-9][0-9][0-9][0-9][0-9][0-9]'))"
        )
    if t.startswith("time"):
        return f"substr({q}, 1, 8) IS time({q})"
    if t.startswith("binary(16)"):
        return f"length({q}) = 16"
    if t in ("json", "jsonb"):
        return f"json_valid({q})"
    return None


def canonical_decimal(value: decimal.Decimal) -> str:
    """A decimal as fixed-point text (``1E+3`` -> ``1000``), the form stored in text columns."""
    return format(value, "f")


def compare_decimal_text(a: str, b: str) -> int:
    """The ``dj_decimal`` collation: numeric order of two decimal texts (text order otherwise)."""
    try:
        x, y = decimal.Decimal(a), decimal.Decimal(b)
    except decimal.InvalidOperation:
        return (a > b) - (a < b)
    return (x > y) - (x < y)
