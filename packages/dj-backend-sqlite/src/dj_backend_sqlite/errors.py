"""Maps sqlite3 errors onto DataJoint's exception classes by SQLite's extended error names."""

from __future__ import annotations

import re
import sqlite3

from datajoint import errors

from .types import CHECK_PREFIX

#: "cannot store TEXT value in INT column s.t.col" (a STRICT table refusing a value's type)
_DATATYPE = re.compile(r"column (\S+)$")

_BY_NAME: dict[str, type[errors.DataJointError]] = {
    "SQLITE_CONSTRAINT_PRIMARYKEY": errors.DuplicateError,
    "SQLITE_CONSTRAINT_UNIQUE": errors.DuplicateError,
    "SQLITE_CONSTRAINT_FOREIGNKEY": errors.IntegrityError,
    "SQLITE_CONSTRAINT_NOTNULL": errors.MissingAttributeError,
}


class SQLiteErrors:
    """sqlite3 reports constraint kinds as extended codes; other errors only as text."""

    def translate(self, error: BaseException, sql: str) -> BaseException | None:
        if isinstance(error, OverflowError):  # an int beyond SQLite's 64 bits, at binding
            return errors.DataError(str(error))
        if not isinstance(error, sqlite3.Error):
            return None
        message = str(error)
        name = getattr(error, "sqlite_errorname", "")
        if name == "SQLITE_CONSTRAINT_CHECK":
            # our constraints are named dj:<column>; older tables' unnamed ones show their text
            constraint = message.partition("CHECK constraint failed: ")[2]
            attribute = (
                constraint[len(CHECK_PREFIX) :] if constraint.startswith(CHECK_PREFIX) else None
            )
            return errors.DataError(message, attribute=attribute)
        # Python builds against older headers may not know this code's name
        if name == "SQLITE_CONSTRAINT_DATATYPE" or getattr(error, "sqlite_errorcode", 0) == 3091:
            match = _DATATYPE.search(message)
            return errors.DataError(message, attribute=match and match.group(1).rpartition(".")[2])
        if isinstance(error, sqlite3.ProgrammingError) and message.startswith("Error binding"):
            return errors.DataError(message)
        if name in _BY_NAME:
            return _BY_NAME[name](message, sql)
        if name == "SQLITE_CONSTRAINT_TRIGGER" and "FOREIGN KEY" in message:
            # ON DELETE RESTRICT fires as a trigger-level constraint in SQLite
            return errors.IntegrityError(message, sql)
        if isinstance(error, sqlite3.ProgrammingError) and "closed" in message:
            return errors.LostConnectionError("Server connection lost", message)
        if isinstance(error, sqlite3.OperationalError):
            if message.startswith("no such table"):
                return errors.MissingTableError(message, sql)
            if message.startswith("no such column") or " has no column named " in message:
                return errors.UnknownAttributeError(message, sql)
            if "syntax error" in message or message.startswith("near "):
                return errors.QuerySyntaxError(message, sql)
        return None

    def is_lost_connection(self, error: BaseException) -> bool:
        return isinstance(error, sqlite3.ProgrammingError) and "closed" in str(error)
