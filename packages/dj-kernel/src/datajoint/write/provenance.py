"""Extrinsic provenance: the hidden ``_prov`` column filled on insert (SPEC §8)."""

from __future__ import annotations

import contextvars
import datetime
import json
import logging
from typing import Any

logger = logging.getLogger("datajoint")

PROV_COLUMN = "_prov"

#: set by populate while a make() runs: {"table": ..., "key": ..., "version": ...}
make_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "datajoint_make_context", default=None
)


def _known(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "", {})}


def provenance_value(table: Any) -> dict[str, Any] | None:
    """The ``_prov`` value (a JSON object) for rows inserted now into ``table``, or None.

    None when capture is off, when the table has no ``_prov`` column, or when nothing but the
    time would be recorded. A failure to build it is logged and gives None.
    """
    conn = table.connection
    settings = getattr(conn.config, "provenance", None)
    if settings is None or not settings.capture:
        return None
    if PROV_COLUMN not in table.heading._attributes:
        return None
    try:
        info = conn.conn_info
        context = make_context.get()
        record: dict[str, Any] = {
            "time": datetime.datetime.now(datetime.UTC).isoformat(),
            "agent": _known(
                {
                    "user": conn.get_user() or None,
                    "host": info.get("host"),
                    "database_name": info.get("database_name"),
                }
            ),
            "version": (context or {}).get("version"),
            "source": dict(settings.source or {}),
            "context": _known(dict(context)) if context else None,
        }
        record = _known(record)
        if set(record) == {"time"}:
            return None
        return json.loads(json.dumps(record, default=str))
    except Exception as error:  # provenance must never block an insert
        logger.warning("Could not record provenance for %s: %s", table.full_table_name, error)
        return None
