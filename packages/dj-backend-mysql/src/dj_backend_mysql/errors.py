"""MySQLErrors: pymysql exceptions -> :mod:`datajoint.errors` (SPEC §0)."""

from __future__ import annotations

import re

from datajoint import errors

#: server/client error codes that mean the connection is gone, with the message DataJoint uses
LOST_CONNECTION_MESSAGES: dict[int, str] = {
    0: "Server connection lost due to an interface error.",
    2006: "Connection timed out",
    2013: "Server connection lost",
    2055: "Server connection lost",  # lost connection at '%s', system error
    4031: "Server connection lost",  # MySQL 8: disconnected by the server for inactivity
}

ACCESS_CODES = frozenset({1044, 1142, 1143})
INTEGRITY_CODES = frozenset({1217, 1451, 1452, 3730})
#: a value that does not fit its column: out of range (1264), truncated -- enum, decimal text --
#: (1265), wrong type (1366, 1292 dates), too long (1406), invalid JSON (3140), a CHECK failed
#: (3819 MySQL, 4025 MariaDB), and a list bound where one value belongs (1241)
DATA_CODES = frozenset({1241, 1264, 1265, 1292, 1366, 1367, 1406, 3140, 3819, 4025})
#: errors whose message names ``max_allowed_packet`` mean a value longer than the server takes:
#: sent apart through the binary protocol (:mod:`.long_data`), MariaDB reports it as its
#: "unknown error" (1105), and a statement over the limit is ER_NET_PACKET_TOO_LARGE (1153)
PACKET_LIMIT_CODES = frozenset({1105, 1153})
_PACKET_LIMIT = "max_allowed_packet"
TOO_LONG_MESSAGE = (
    "a value is longer than the server's max_allowed_packet; raise it on the server "
    "(SET GLOBAL max_allowed_packet = 1073741824, or in its configuration file) or keep values "
    "this large in an object store (<blob@store>)"
)
#: the column a data error names: 'col', `db`.`t`.`col`, or a CHECK constraint named after it
_COLUMN = re.compile(
    r"column (?:'(?:[^']*\.)?(?P<plain>[^'.]+)'|`[^`]*`\.`[^`]*`\.`(?P<quoted>[^`]+)`)"
    r"|CONSTRAINT `(?:[^`]*\.)?(?P<check>[^`.]+)` failed"
)


def error_code(error: BaseException) -> int | None:
    """The numeric MySQL error code carried by a driver exception, or None."""
    args = getattr(error, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return None


def error_message(error: BaseException) -> str:
    """The server's message text of a driver exception (``str(error)`` when there is none)."""
    args: tuple[object, ...] = getattr(error, "args", ())
    if len(args) >= 2 and isinstance(args[1], str):
        return args[1]
    return str(error)


def _is_pymysql_error(error: BaseException) -> bool:
    module = type(error).__module__ or ""
    return module.startswith("pymysql")


class MySQLErrors:
    """Translates pymysql exceptions; anything it does not know passes through (None)."""

    def is_lost_connection(self, error: BaseException) -> bool:
        """True when ``error`` means the connection to the server is gone."""
        if isinstance(error, errors.LostConnectionError):
            return True
        if not _is_pymysql_error(error):
            return False
        if type(error).__name__ == "InterfaceError":
            return True
        code = error_code(error)
        if code is None:
            # pymysql raises a bare Error("Already closed") on a closed connection
            return "closed" in str(error).lower()
        return code in LOST_CONNECTION_MESSAGES

    def translate(self, error: BaseException, sql: str) -> BaseException | None:
        """The DataJoint exception for a pymysql error, or None to let it pass unchanged."""
        if isinstance(error, errors.DataJointError) or not _is_pymysql_error(error):
            return None
        if self.is_lost_connection(error):
            code = error_code(error)
            message = LOST_CONNECTION_MESSAGES.get(code if code is not None else 0)
            return errors.LostConnectionError(message or LOST_CONNECTION_MESSAGES[0])
        code = error_code(error)
        msg = error_message(error)
        if code == 1064:
            return errors.QuerySyntaxError(msg, sql)
        if code in ACCESS_CODES:
            return errors.AccessError("Insufficient privileges.", msg, sql)
        if code == 1062:
            return errors.DuplicateError(msg)
        if code in DATA_CODES:
            match = _COLUMN.search(msg)
            column = match and (match["plain"] or match["quoted"] or match["check"])
            return errors.DataError(msg, attribute=column)
        if code in INTEGRITY_CODES:
            return errors.IntegrityError(msg)
        if code == 1054:
            return errors.UnknownAttributeError(msg)
        if code == 1364:
            return errors.MissingAttributeError(msg)
        if code == 1146:
            return errors.MissingTableError(msg, sql)
        if code in PACKET_LIMIT_CODES and _PACKET_LIMIT in msg:
            return errors.DataError(TOO_LONG_MESSAGE)
        return None
