"""``dj.Instance``: an isolated configuration and connection, usable in thread-safe mode."""

from __future__ import annotations

from typing import Any

from .connection import Connection
from .schema import Schema
from .table import FreeTable


class Instance:
    """A configuration and a connection of its own, independent of ``dj.config``/``dj.conn()``.

    ``Instance(host, user, password, port=None, use_tls=None, backend=None, **settings)``: a fresh
    configuration is loaded (same rules as ``dj.config``), ``backend`` is applied (the default port
    follows it unless a port is given), then ``settings``: a top-level setting name is set
    directly, ``group__key=value`` sets a nested one, other names are ignored.
    """

    def __init__(
        self,
        host: str | None = None,
        user: str | None = None,
        password: str | None = None,
        port: int | None = None,
        use_tls: bool | dict | None = None,
        backend: str | None = None,
        **settings: Any,
    ) -> None:
        from .settings import create_config

        self.config = create_config()
        if backend is not None:
            self.config["database.backend"] = backend
        for name, value in settings.items():
            key = name.replace("__", ".", 1)
            try:
                self.config[key] = value
            except (KeyError, AttributeError):
                continue
        if host is not None:
            self.config["database.host"] = host
        self.connection = Connection(
            host,
            user,
            password,
            port if port is not None else self.config.database.port,
            use_tls,
            backend=self.config.resolved_backend(),
            config_override=self.config,
        )

    def Schema(
        self,
        schema_name: str,
        *,
        context: dict[str, Any] | None = None,
        create_schema: bool = True,
        create_tables: bool | None = None,
        add_objects: dict[str, Any] | None = None,
    ) -> Schema:
        """A schema on this instance's connection."""
        return Schema(
            schema_name,
            context,
            connection=self.connection,
            create_schema=create_schema,
            create_tables=create_tables,
            add_objects=add_objects,
        )

    def FreeTable(self, full_table_name: str) -> FreeTable:
        """A table of this instance's connection, by its full name."""
        return FreeTable(self.connection, full_table_name)

    def __repr__(self) -> str:
        return f"Instance({self.connection!r})"
