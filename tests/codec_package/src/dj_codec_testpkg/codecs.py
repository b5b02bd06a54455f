"""Codecs written against the DataJoint 2.x codec API, as a third-party package would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

import datajoint as dj
from datajoint.builtin_codecs import SchemaCodec


@dataclass(frozen=True)
class Point:
    """A point in the plane."""

    x: float
    y: float


class PointCodec(dj.Codec):
    """``<testpoint>``: a Point stored as a JSON object."""

    name = "testpoint"

    def get_dtype(self, is_store: bool) -> str:
        return "json"

    def validate(self, value: Any) -> None:
        if not isinstance(value, Point):
            raise TypeError(f"<testpoint> expects a Point, got {type(value).__name__}")

    def encode(self, value: Point, *, key: dict | None = None, store_name: str | None = None):
        return {"x": value.x, "y": value.y}

    def decode(self, stored: dict, *, key: dict | None = None) -> Point:
        return Point(stored["x"], stored["y"])


class PolylineCodec(dj.Codec):
    """``<testpolyline>``: a list of Points, chained through ``<blob>`` as an (n, 2) array."""

    name = "testpolyline"

    def get_dtype(self, is_store: bool) -> str:
        return "<blob>"

    def encode(self, value: list[Point], *, key: dict | None = None, store_name: str | None = None):
        return np.array([[p.x, p.y] for p in value], dtype=np.float64).reshape(-1, 2)

    def decode(self, stored: np.ndarray, *, key: dict | None = None) -> list[Point]:
        return [Point(float(x), float(y)) for x, y in stored]


class SnapshotCodec(SchemaCodec):
    """``<testsnapshot@store>``: bytes written to a schema-addressed path in a store."""

    name = "testsnapshot"

    def encode(self, value: bytes, *, key: dict | None = None, store_name: str | None = None):
        schema, table, field, primary_key = self._extract_context(key)
        path, _token = self._build_path(
            schema, table, field, primary_key, ext=".bin", store_name=store_name
        )
        backend = self._get_backend(store_name)
        backend.put_buffer(bytes(value), path)
        return {"path": path, "store": store_name, "size": len(value)}

    def decode(self, stored: dict, *, key: dict | None = None) -> bytes:
        return self._get_backend(stored.get("store")).get_buffer(stored["path"])
