"""The in-table built-in codecs: ``<blob>`` and ``<attach>`` (SPEC §4.2).

With a store (``<blob@>``, ``<attach@>``) both chain to ``<hash>``, which the storage package
provides; the codec API needs no change for that.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from datajoint import Codec

from . import blob

__all__ = ["AttachCodec", "BlobCodec"]


class BlobCodec(Codec):
    """``<blob>``: any serializable Python value, in DataJoint's byte-compatible blob format.

    Encoding is ``blob.pack(value, compress=True)``; decoding ``blob.unpack(stored,
    squeeze=False)``. In a store the packed bytes go through ``<hash>``.
    """

    name = "blob"
    concurrent = True  # pack/unpack are pure; zlib releases the GIL
    #: the serializer itself, which ``datajoint.blob.pack`` / ``unpack`` resolve to
    pack = staticmethod(blob.pack)
    unpack = staticmethod(blob.unpack)

    def get_dtype(self, is_store: bool) -> str:
        """``bytes`` in the table; ``<hash>`` in a store."""
        return "<hash>" if is_store else "bytes"

    def encode(
        self, value: Any, *, key: dict | None = None, store_name: str | None = None
    ) -> bytes:
        """The blob of ``value`` (compressed when that makes it shorter)."""
        return blob.pack(value, compress=True)

    def decode(self, stored: Any, *, key: dict | None = None) -> Any:
        """The value a blob holds."""
        return blob.unpack(stored, squeeze=False)


class AttachCodec(Codec):
    """``<attach>``: a file, stored with its name; fetching writes it to ``download_path``.

    Stored as ``filename (UTF-8) + b"\\0" + contents``. Decoding writes
    ``config.download_path/filename`` (creating the folder); a different file already holding
    that name makes it try ``stem_1.ext``, ``stem_2.ext``, …, and a file with identical contents
    is reused without rewriting. The path is returned as a str.
    """

    name = "attach"

    def get_dtype(self, is_store: bool) -> str:
        """``bytes`` in the table; ``<hash>`` in a store."""
        return "<hash>" if is_store else "bytes"

    def validate(self, value: Any) -> None:
        """A path (str or PathLike) to an existing file."""
        if not isinstance(value, str | os.PathLike):
            raise TypeError(f"<attach> expects a file path, got {type(value).__name__}")
        path = Path(value)
        if not path.exists():
            raise FileNotFoundError(f"Attachment file not found: {path}")
        if path.is_dir():
            raise IsADirectoryError(f"<attach> expects a file, got the directory {path}")

    def encode(
        self, value: Any, *, key: dict | None = None, store_name: str | None = None
    ) -> bytes:
        """The file's name and contents."""
        self.validate(value)
        path = Path(value)
        return path.name.encode("utf-8") + b"\0" + path.read_bytes()

    def decode(self, stored: Any, *, key: dict | None = None, context: dict | None = None) -> str:
        """Write the attachment into ``config.download_path`` and return its path."""
        data = bytes(stored)
        split = data.find(b"\0")
        if split < 0:
            raise ValueError("Invalid <attach> value: no file name separator")
        filename = Path(data[:split].decode("utf-8")).name  # never a path outside the folder
        contents = memoryview(data)[split + 1 :]
        folder = Path(getattr(self._codec_config(key, context), "download_path", ".") or ".")
        folder.mkdir(parents=True, exist_ok=True)
        return str(_place(folder, filename, contents))


def _same_contents(path: Path, contents: memoryview) -> bool:
    return path.stat().st_size == len(contents) and path.read_bytes() == contents


def _place(folder: Path, filename: str, contents: memoryview) -> Path:
    """Write ``contents`` as ``folder/filename``, or the first free ``stem_N.ext`` when a file
    with other contents holds that name; a file with the same contents is reused."""
    target = folder / filename
    stem, suffix = Path(filename).stem, Path(filename).suffix
    n = 0
    while target.exists():
        if target.is_file() and _same_contents(target, contents):
            return target
        n += 1
        target = folder / f"{stem}_{n}{suffix}"
    target.write_bytes(contents)
    return target
