"""Values and headings as plain JSON, so that what DataJoint itself returns (in its own virtual
environment) and what this package returns can be compared exactly. Imported by the helper
scripts (run by the reference releases) and by the tests; it needs only numpy."""

from __future__ import annotations

import datetime
import decimal
import os
import uuid
from typing import Any

import numpy as np

TIERS = ("Part", "Manual", "Lookup", "Imported", "Computed")


def plain(value: Any, *, attach: bool = False) -> Any:
    """A JSON-able form of a fetched value; ``attach``: the value is a downloaded file's path."""
    if value is None:
        return None
    if attach:
        with open(value, "rb") as f:
            return {"attach": os.path.basename(value), "content": f.read().hex()}
    kind = type(value).__name__
    if kind == "ObjectRef":  # a file in an object store: where and what
        return {"object": str(value.path), "content": value.read().hex()}
    if kind == "NpyRef":
        return {"npy": str(value.path), "array": plain(np.asarray(value.load()))}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            items = [plain(v) for v in value.ravel().tolist()]
        elif value.dtype.names:
            items = [[plain(v) for v in row] for row in value.ravel().tolist()]
        else:
            items = value.ravel().tolist()
        return {"ndarray": str(value.dtype), "shape": list(value.shape), "items": items}
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": bytes(value).hex()}
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return {"repr": repr(value)}


def tier_of(cls: type) -> str:
    return next(b.__name__ for b in cls.__mro__ if b.__name__ in TIERS)


def declared_type(attr: Any) -> str:
    """The declared type of a heading attribute in either implementation's Attribute."""
    codec = getattr(attr, "codec", None)
    if codec is not None:
        name = codec if isinstance(codec, str) else codec.name
        store = getattr(attr, "store", None)
        return f"<{name}@{store}>" if store is not None else f"<{name}>"
    text = getattr(attr, "original_type", None) or attr.type
    return "".join(text.split()).lower()


def dump_table(
    cls: type, *, with_attachments: bool = True, download_path: str = "."
) -> dict[str, Any]:
    """Heading, tier and rows (primary-key order) of a table class of a virtual module; without
    attachments, the rows leave out the ``<attach>`` columns."""
    heading = cls.heading
    attrs = {name: heading.attributes[name] for name in heading.names}
    attach = {
        n
        for n, a in attrs.items()
        if getattr(a, "is_attachment", False) or declared_type(a).startswith("<attach")
    }
    query = cls() if with_attachments else cls.proj(*[n for n in attrs if n not in attach])
    order = list(cls.primary_key)
    if not heading.names:
        rows = []
    elif hasattr(query, "to_dicts"):
        rows = query.to_dicts(order_by=order)
    else:  # DataJoint 0.14
        rows = query.fetch(as_dict=True, order_by=order, download_path=download_path)
    return {
        "tier": tier_of(cls),
        "primary_key": list(cls.primary_key),
        "attributes": {
            name: {
                "type": declared_type(a),
                "nullable": bool(a.nullable),
                "comment": a.comment or "",  # 2.3.5 on PostgreSQL: None for no comment
                "lineage": getattr(a, "lineage", None),  # 0.14 has none
            }
            for name, a in attrs.items()
        },
        "rows": [
            {k: plain(v, attach=k in attach and v is not None) for k, v in r.items()} for r in rows
        ],
    }


def table_classes(module: Any) -> dict[str, type]:
    """Every table class of a virtual module, parts included, by SQL table name."""
    out: dict[str, type] = {}
    for value in vars(module).values():
        if isinstance(value, type) and hasattr(value, "table_name") and hasattr(value, "heading"):
            out[value.table_name] = value
            for part in vars(value).values():
                if isinstance(part, type) and hasattr(part, "table_name") and part is not value:
                    out[part.table_name] = part
    return out


def dump_module(
    module: Any, *, with_attachments: bool = True, download_path: str = "."
) -> dict[str, Any]:
    return {
        name: dump_table(cls, with_attachments=with_attachments, download_path=download_path)
        for name, cls in sorted(table_classes(module).items())
    }


def query_results(dj: Any, module: Any) -> dict[str, Any]:
    """The rows of a fixed set of queries over the pipeline of ``ref_v2.py`` (restrictions,
    joins, a renamed foreign key, projections, antijoin, dj.U and aggregation), each ordered."""
    Subject, Session = module.Subject, module.Session
    Trial = Session.Trial
    queries = {
        "restrict_dict": ((Subject & {"sex": "F"}).proj("name", "weight"), ["subject_id"]),
        "restrict_str": (Trial & "value > 2", ["subject_id", "session", "trial"]),
        "join": ((Session * Subject).proj("name", "note"), ["subject_id", "session"]),
        "renamed_fk": (
            Session.proj(partner="buddy") * Subject.proj("name", partner="subject_id"),
            ["subject_id", "session"],
        ),
        "antijoin": ((Subject - Session).proj("name"), ["subject_id"]),
        "universal": (dj.U("sex") & Subject, ["sex"]),
        "computed": (
            Subject.proj(grams="weight * 1000", first="subject_id = 1"),
            ["subject_id"],
        ),
        "aggr": (
            Session.aggr(Trial, n="count(*)", top="max(value)"),
            ["subject_id", "session"],
        ),
        "semijoin": ((Subject & (Session & "note = 'first'")).proj("name"), ["subject_id"]),
    }
    out = {}
    for name, (query, order) in queries.items():
        names = list(query.heading.names)
        rows = query.to_dicts(order_by=order)
        out[name] = {
            "heading": names,
            "rows": [
                {k: plain(r[k]) for k in names if k not in ("data", "doc", "raw")} for r in rows
            ],
        }
    return out
