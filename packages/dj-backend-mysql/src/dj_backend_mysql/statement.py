"""Statements with large bytes values, built as bytes (the text half of :mod:`.long_data`).

pymysql escapes a bytes value into a ``str``, formats it into the statement and encodes the
whole text: several copies of a literal twice the value's size. Here the statement is cut at its
``%s`` placeholders once, each value is turned into bytes on its own and the pieces are joined
once. A bytes value either becomes a hex literal made with ``binascii.hexlify`` (the server reads
it as the same bytes) or, when the caller sends it apart through the binary protocol, a ``?``.
The other values go through pymysql's own escaping, each encoded as pymysql encodes a statement.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Sequence
from typing import Any

import pymysql

#: bytes values at least this long make a statement go through :mod:`.long_data`
LARGE_BYTES = 1 << 16

#: what ``query % args`` reads in a statement: a placeholder, or an escaped percent sign
_FORMAT_TOKENS = re.compile(rb"%[s%]")
#: the end of the arguments
_MISSING = object()


def is_large_bytes(value: Any) -> bool:
    """Whether ``value`` is bytes of :data:`LARGE_BYTES` or more."""
    return type(value) in (bytes, bytearray) and len(value) >= LARGE_BYTES


def has_large_bytes(args: Sequence[Any]) -> bool:
    """Whether any of ``args`` is bytes of :data:`LARGE_BYTES` or more."""
    return any(map(is_large_bytes, args))


def split_statement(
    connection: Any, query: str, args: Sequence[Any], *, apart: bool
) -> tuple[bytes, list[bytes | bytearray]]:
    """``query % args`` as bytes, and the values left out of it.

    With ``apart``, each large bytes value (:func:`is_large_bytes`) is a ``?`` in the text and is
    returned, in order, to be sent on its own; otherwise every bytes value is a hex literal and
    nothing is returned. A wrong number of values is pymysql's ``ProgrammingError``, as in
    pymysql's own formatting; ``%%`` is one percent sign."""
    encoding = connection.encoding
    escape = connection.escape
    text = query.encode(encoding, "surrogateescape")
    pieces: list[bytes] = []
    left_out: list[bytes | bytearray] = []
    values = iter(args)
    start = 0
    for token in _FORMAT_TOKENS.finditer(text):
        pieces.append(text[start : token.start()])
        start = token.end()
        if token.group() == b"%%":
            pieces.append(b"%")
            continue
        value: Any = next(values, _MISSING)
        if value is _MISSING:
            raise pymysql.err.ProgrammingError("not enough arguments for format string")
        if apart and is_large_bytes(value):
            pieces.append(b"?")
            left_out.append(value)
        elif type(value) in (bytes, bytearray):
            pieces += (b"X'", binascii.hexlify(value), b"'")
        else:
            pieces.append(escape(value).encode(encoding, "surrogateescape"))
    if next(values, _MISSING) is not _MISSING:
        raise pymysql.err.ProgrammingError("not all arguments converted during bytes formatting")
    pieces.append(text[start:])
    return b"".join(pieces), left_out


def bytes_statement(connection: Any, query: str, args: Sequence[Any]) -> bytes:
    """The statement for ``query % args`` as bytes, every bytes value a hex literal."""
    return split_statement(connection, query, args, apart=False)[0]
