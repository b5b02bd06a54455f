"""The table tiers users subclass: Manual, Lookup, Imported, Computed and Part (SPEC §3.1)."""

from __future__ import annotations

import re
from typing import Any

from .errors import DataJointError
from .naming import to_snake_case
from .populate import AutoPopulate
from .table import Table

_CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")


def checked_class_name(name: str) -> str:
    """The class name with underscores removed, after the CamelCase check (SPEC §3.1)."""
    import warnings

    if "_" in name:
        warnings.warn(
            f"Table class name `{name}` contains underscores. "
            "CamelCase names without underscores are recommended.",
            UserWarning,
            stacklevel=4,
        )
        name = name.replace("_", "")
    if not _CLASS_NAME.match(name):
        raise DataJointError(
            f"Table class name `{name}` is invalid. Class names must be in CamelCase, "
            "starting with a capital letter."
        )
    return name


class UserTable(Table):
    """A table declared by a class with a ``definition``; its name comes from the class name."""

    tier_prefix = ""
    _auto_populated = False
    #: the table name, kept in each class's own ``__dict__`` (a subclass never inherits it)
    _table_name_cache: str | None

    @property
    def table_name(self) -> str:
        cls = type(self)
        name = cls.__dict__.get("_table_name_cache")
        if name is None:
            name = self.tier_prefix + to_snake_case(checked_class_name(cls.__name__))
            cls._table_name_cache = name
        return name


class Manual(UserTable):
    """Data entered by hand or by external tools."""

    tier_prefix = ""


class Lookup(UserTable):
    """Small reference tables; ``contents`` rows are inserted when the table is declared."""

    tier_prefix = "#"
    contents: Any = None


class Imported(UserTable, AutoPopulate):
    """Data brought in from outside by ``populate()``."""

    tier_prefix = "_"
    _auto_populated = True


class Computed(UserTable, AutoPopulate):
    """Data computed from other tables by ``populate()``."""

    tier_prefix = "__"
    _auto_populated = True


class Part(UserTable):
    """A part of a master table's entries; declared as a nested class of the master."""

    _master: type[Table] | None = None

    @property
    def master(self) -> type[Table]:
        if self._master is None:
            raise DataJointError(f"Part table {type(self).__name__} has no master.")
        return self._master

    @property
    def table_name(self) -> str:
        cls = type(self)
        name = cls.__dict__.get("_table_name_cache")
        if name is None:
            part = to_snake_case(checked_class_name(cls.__name__))
            name = self.master().table_name + "__" + part
            cls._table_name_cache = name
        return name

    @property
    def _auto_populated(self) -> bool:  # type: ignore[override]
        return False

    def delete(self, part_integrity: str = "enforce", **kwargs: Any) -> int:  # type: ignore[override]
        """Deleting from a part directly breaks its master's integrity: refused unless
        ``part_integrity`` is "ignore" (delete the part rows only) or "cascade" (delete the
        master rows they belong to as well)."""
        if part_integrity == "enforce":
            raise DataJointError(
                "Cannot delete from a Part directly. Delete from master instead, or use "
                "part_integrity='ignore' to break integrity, or part_integrity='cascade' to also "
                "delete master."
            )
        return super().delete(part_integrity=part_integrity, **kwargs)

    def drop(self, prompt: bool | None = None, part_integrity: str = "enforce") -> None:
        """Dropping a part alone is refused unless ``part_integrity="ignore"``."""
        if part_integrity == "enforce":
            raise DataJointError(
                "Cannot drop a Part directly. Drop master instead, or use "
                "part_integrity='ignore' to force."
            )
        if part_integrity != "ignore":
            raise ValueError(
                f"part_integrity must be 'enforce' or 'ignore', got {part_integrity!r}"
            )
        super().drop(prompt=prompt, part_integrity="ignore")


Entry = Manual
Ingest = Imported
Compute = Computed
