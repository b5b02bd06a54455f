"""Maps sqlite3 errors onto DataJoint's exception classes by SQLite's extended error names."""

from __future__ import annotations

import sqlite3

from datajoint import errors

_BY_NAME: dict[str, type[errors.DataJointError]] = {
    "SQLITE_CONSTRAINT_PRIMARYKEY": errors.DuplicateError,
    "SQLITE_CONSTRAINT_UNIQUE": errors.DuplicateError,
    "SQLITE_CONSTRAINT_FOREIGNKEY": errors.IntegrityError,
    "SQLITE_CONSTRAINT_NOTNULL": errors.MissingAttributeError,
}


class SQLiteErrors:
    """sqlite3 reports constraint kinds as extended codes; other errors only as text."""

    def translate(self, error: BaseException, sql: str) -> BaseException | None:
        if not isinstance(error, sqlite3.Error):
            return None
        message = str(error)
        name = getattr(error, "sqlite_errorname", "")
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
