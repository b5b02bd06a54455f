"""The safety net of destructive writes: a dict restriction that names no attribute.

In DataJoint 2.x (and in queries here, SPEC §6.1) a dict whose keys name no attribute of the
table restricts nothing, so ``(Session & {"subjectid": 3}).delete()`` -- a typo for
``subject_id`` -- would delete every session. ``delete``, ``delete_quick``, ``drop`` and
``update1`` refuse such a restriction instead; queries and fetches keep the 2.x meaning.
"""

from __future__ import annotations

from typing import Any

from ..errors import UnmatchedRestrictionError


def refuse_unmatched_restriction(table: Any, operation: str) -> None:
    """Raise when ``table`` was restricted by a dict none of whose keys is an attribute."""
    unknown = list(dict.fromkeys(table._unmatched_keys))
    if not unknown:
        return
    raise UnmatchedRestrictionError(
        f"Refusing {operation} on {table.full_table_name}: a dict restriction with unknown "
        f"key(s) {', '.join(repr(k) for k in unknown)} names no attribute of the table, so it "
        f"restricts nothing and {operation} would apply to the whole table. The table's "
        f"attributes are: {', '.join(table.heading.names)}. Correct the key names."
    )
