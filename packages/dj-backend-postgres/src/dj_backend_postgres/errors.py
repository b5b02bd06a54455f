"""PostgresErrors: psycopg exceptions mapped onto :mod:`datajoint.errors` by SQLSTATE (SPEC §0)."""

from __future__ import annotations

import re

from datajoint import errors

#: SQLSTATE -> DataJoint exception class (each constructed with ``str(driver error)``)
SQLSTATE_ERRORS: dict[str, type[errors.DataJointError]] = {
    "23505": errors.DuplicateError,
    "23503": errors.IntegrityError,
    "23502": errors.MissingAttributeError,
    "42601": errors.QuerySyntaxError,
    "42P01": errors.MissingTableError,
    "42703": errors.UnknownAttributeError,
}

#: SQLSTATEs meaning the connection is gone: SPEC §0 lists 08000, 08003, 08006 and 57P01; the rest
#: of class 08 (connection exception) and the other operator interventions that end the session
#: (57P02 crash shutdown, 57P03 cannot connect now) mean the same thing.
LOST_CONNECTION_STATES = frozenset({"57P01", "57P02", "57P03"})

#: a value that does not fit its column: data exceptions of class 22 (too long 22001, out of range
#: 22003, bad datetime 22007/22008, bad text for the type 22P02, bad characters 22021/22P05), a
#: failed CHECK (23514) and a value of another type (42804); division by zero stays untranslated
DATA_STATES = frozenset(
    {"22001", "22003", "22007", "22008", "22021", "22026", "22P02", "22P05", "23514", "42804"}
)
#: where PostgreSQL names the column: a COPY line's context, a type mismatch, our CHECK names
_COLUMN = re.compile(r'(?:, column |column ")(?P<name>[^":]+)|^dj:(?P<check>.+)$')


def _sqlstate(error: BaseException) -> str | None:
    state = getattr(error, "sqlstate", None)
    return state if isinstance(state, str) else None


class PostgresErrors:
    """Translates psycopg errors; anything unrecognised passes through unchanged (None)."""

    def is_lost_connection(self, error: BaseException) -> bool:
        """True for connection-class SQLSTATEs and for psycopg errors on a dead connection.

        psycopg raises ``OperationalError`` without a SQLSTATE when the connection is closed
        ("the connection is closed") or the server went away mid-query.
        """
        state = _sqlstate(error)
        if state is not None:
            return state.startswith("08") or state in LOST_CONNECTION_STATES
        try:
            import psycopg
        except ImportError:  # pragma: no cover - the driver is a dependency of this package
            return False
        return isinstance(error, psycopg.OperationalError)

    def translate(self, error: BaseException, sql: str) -> BaseException | None:
        """The DataJoint exception for ``error`` (carrying ``str(error)``), or None."""
        if isinstance(error, errors.DataJointError):
            return None
        message = str(error)
        if self.is_lost_connection(error):
            return errors.LostConnectionError(message)
        state = _sqlstate(error)
        if state == "42501":
            return errors.AccessError("Insufficient privileges.", message, "")
        if state in DATA_STATES:
            return errors.DataError(message, attribute=_column_of(error))
        if message.startswith("cannot adapt type"):  # psycopg could not bind a value at all
            return errors.DataError(message)
        cls = SQLSTATE_ERRORS.get(state or "")
        if cls is None:
            return None
        if cls is errors.QuerySyntaxError:
            return cls(message, sql)
        return cls(message)


def _column_of(error: BaseException) -> str | None:
    """The column a psycopg data error names (diagnostics, COPY context or message), if any."""
    diag = getattr(error, "diag", None)
    if diag is not None and diag.column_name:
        return diag.column_name
    for text in (diag and diag.constraint_name, diag and diag.context, str(error)):
        match = _COLUMN.search(text or "")
        if match:
            return match["name"] or match["check"]
    return None
