"""``dj.Top``: order, limit and offset as a restriction (SPEC §6.8)."""

from __future__ import annotations

from dataclasses import dataclass

UNLIMITED = 999999999999


@dataclass
class Top:
    """The first ``limit`` rows by ``order_by`` after skipping ``offset`` rows.

    ``order_by`` items are attribute names with an optional ASC/DESC; ``"KEY"`` stands for the
    primary key. ``None`` as ``order_by`` means "inherit" when merged with an existing Top.
    """

    limit: int | None = 1
    order_by: str | list[str] | None = "KEY"
    offset: int = 0

    def __post_init__(self) -> None:
        if self.limit is not None and (
            isinstance(self.limit, bool) or not isinstance(self.limit, int)
        ):
            raise TypeError("Top limit must be an integer")
        if isinstance(self.order_by, str):
            self.order_by = [self.order_by]
        if self.order_by is not None and not all(isinstance(o, str) for o in self.order_by):
            raise TypeError("Top order_by attributes must all be strings")
        if not self.offset:
            self.offset = 0
        if isinstance(self.offset, bool) or not isinstance(self.offset, int):
            raise TypeError("The offset argument must be an integer")
        if self.offset and self.limit is None:
            self.limit = UNLIMITED

    def merge(self, newer: Top) -> Top | None:
        """The combination of this Top followed by ``newer``, or None when they cannot merge."""
        if newer.order_by is not None and newer.order_by != self.order_by:
            return None
        limits = [x for x in (self.limit, newer.limit) if x is not None]
        return Top(min(limits) if limits else None, self.order_by, self.offset + newer.offset)
