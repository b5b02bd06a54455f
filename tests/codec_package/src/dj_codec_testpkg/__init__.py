"""A third-party codec package used by dj-kernel's tests (no registration code: entry points)."""

from .codecs import Point, PointCodec, PolylineCodec, SnapshotCodec

__all__ = ["Point", "PointCodec", "PolylineCodec", "SnapshotCodec"]
