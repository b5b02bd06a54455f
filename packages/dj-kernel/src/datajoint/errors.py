"""Exception classes raised by DataJoint (SPEC §0)."""

from __future__ import annotations

from typing import Any


class DataJointError(Exception):
    """Base class of every error DataJoint raises on purpose."""

    def suggest(self, *args: Any) -> DataJointError:
        """Return a new error of the same class with ``args`` appended (e.g. a hint)."""
        return self.__class__(*self.args, *args)


class LostConnectionError(DataJointError):
    """The connection to the database server was lost."""


class QueryError(DataJointError):
    """The server rejected a query."""


class QuerySyntaxError(QueryError):
    """The SQL text is not valid for the server."""


class AccessError(QueryError):
    """The database user lacks a privilege."""


class DuplicateError(QueryError):
    """A row with the same primary key (or unique value) already exists."""


class IntegrityError(QueryError):
    """A foreign-key constraint was violated."""


class UnknownAttributeError(QueryError):
    """The query names a column the table does not have."""


class MissingAttributeError(QueryError):
    """A required column (no default) was given no value."""


class DataError(QueryError):
    """A value does not fit its attribute: wrong type, out of range, not in the enum, too long,
    not a valid date, time or JSON document.

    Raised the same way on every backend. ``table``, ``attribute`` and ``value`` name the
    offending value when known (the insert path finds them when the driver does not say); the
    driver's error is the ``__cause__``.
    """

    def __init__(
        self,
        message: str,
        *args: Any,
        table: str | None = None,
        attribute: str | None = None,
        value: Any = None,
    ) -> None:
        super().__init__(message, *args)
        self.table = table
        self.attribute = attribute
        self.value = value

    def suggest(self, *args: Any) -> DataError:
        return self.__class__(
            *self.args, *args, table=self.table, attribute=self.attribute, value=self.value
        )


class MissingTableError(DataJointError):
    """The query names a table that does not exist."""


class MissingExternalFile(DataJointError):
    """A file expected in an object store is missing."""


class BucketInaccessible(DataJointError):
    """An object-store bucket cannot be reached."""


class ThreadSafetyError(DataJointError):
    """Global state was used while thread-safe mode is on."""


class PluginError(DataJointError):
    """A plugin is missing, broken or conflicts with another one."""


class UnmatchedRestrictionError(DataJointError):
    """A delete, drop or update of a table restricted by a dict naming none of its attributes
    (a restriction that would restrict nothing)."""


THREAD_SAFE_MESSAGE = (
    "Global DataJoint state is disabled in thread-safe mode. "
    "Use dj.Instance() to create an isolated instance."
)
