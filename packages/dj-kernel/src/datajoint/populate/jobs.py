"""Jobs tables: the per-table queue that lets many workers populate one table (SPEC §9).

Each auto-populated table ``X`` has a hidden jobs table ``~~x`` (its name without the tier's
leading underscores) keyed by the primary-key attributes ``X`` inherits through foreign keys. A
:class:`Job` is that table as a query (``T.jobs & "status='error'"``) plus the queue operations.

The server is the queue: reserving a key is one conditional ``UPDATE ... WHERE status='pending'``
whose row count decides, so two workers can never both win a key, on any backend. Time always
comes from the server (``CURRENT_TIMESTAMP(3)`` in the dialect's spelling), never from the
worker's clock. The statements a populate sends per key are built once per :class:`Job`.
"""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..algebra import model as m
from ..algebra.conditions import AndList, Not
from ..backend.contract import ColumnSpec, IndexSpec, TableSpec
from ..declare.compile import compile_attribute
from ..declare.parser import AttributeLine, IndexLine, parse_definition
from ..declare.types import enum_values
from ..encode import DEFAULT, AttributeEncoder
from ..errors import DataJointError
from ..heading import heading_cache
from ..table import FreeTable, Table

logger = logging.getLogger("datajoint")

STATUSES = ("pending", "reserved", "success", "error", "ignore")
#: the width of ``error_message``; longer messages are cut and end with TRUNCATED
ERROR_MESSAGE_LENGTH = 2047
TRUNCATED = "...truncated"
#: the columns after the key (SPEC §9)
JOB_COLUMNS = """
---
status : enum('pending','reserved','success','error','ignore')
priority : int8
created_time=CURRENT_TIMESTAMP(3) : datetime(3)
scheduled_time=CURRENT_TIMESTAMP(3) : datetime(3)
reserved_time=null : datetime(3)
completed_time=null : datetime(3)
duration=null : float64
error_message="" : varchar(2047)
error_stack=null : <blob>
user="" : varchar(255)
host="" : varchar(255)
pid=0 : int32
connection_id=0 : int64
version="" : varchar(64)
INDEX (status, priority, scheduled_time)
"""
#: rows per INSERT statement when refresh adds many keys
_INSERT_CHUNK = 1000
#: tries to declare a jobs table that concurrent workers may be declaring too
_DECLARE_ATTEMPTS = 3


def jobs_table_name(target_table_name: str) -> str:
    """``~~`` plus the target's table name without its leading underscores."""
    return "~~" + target_table_name.lstrip("_")


def truncate_message(message: str) -> str:
    """``message`` cut to fit ``error_message``, ending with "...truncated" when cut."""
    if len(message) <= ERROR_MESSAGE_LENGTH:
        return message
    return message[: ERROR_MESSAGE_LENGTH - len(TRUNCATED)] + TRUNCATED


def code_version(method: str | None) -> str:
    """The code version recorded with a job: ``git rev-parse --short HEAD`` for "git" (empty
    when that fails), else empty."""
    if method != "git":
        return ""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip()[:64] if result.returncode == 0 else ""


def _unrestricted(target: Any) -> Table:
    """The whole table behind ``target`` (a class, an instance, or a restricted instance)."""
    if isinstance(target, type):
        target = target()
    if not isinstance(target, Table):
        raise DataJointError(f"A jobs table needs a table, got {target!r}.")
    if isinstance(target, FreeTable):
        return FreeTable(target.connection, f"{target.database}.{target.table_name}")
    return type(target)()


class Job(FreeTable):
    """The jobs table of an auto-populated table, as a query, with the queue operations.

    ``Job(target)`` does not create the table; ``Target.jobs`` and :meth:`refresh` do.
    """

    def __init__(self, target_table: Any) -> None:
        target = _unrestricted(target_table)
        super().__init__(
            target.connection, f"{target.database}.{jobs_table_name(target.table_name)}"
        )
        self._target = target
        self._statements: _Statements | None = None
        self._version: str | None = None
        self._user: str | None = None
        #: (pid, connection id, the reserving worker's host/pid/connection/user/version values)
        self._reserver: tuple[int, Any, list[Any]] | None = None

    def __repr__(self) -> str:
        return f"Job({self._target.full_table_name})\n" + super(FreeTable, self).__repr__()

    # ---- views -----------------------------------------------------------------------------
    @property
    def target(self) -> Table:
        """The table whose keys this jobs table schedules."""
        return self._target

    @property
    def table(self) -> Job:
        """The whole jobs table (unrestricted)."""
        return self._derive(restriction=())  # type: ignore[return-value]

    @property
    def pending(self) -> Job:
        return self & {"status": "pending"}  # type: ignore[return-value]

    @property
    def reserved(self) -> Job:
        return self & {"status": "reserved"}  # type: ignore[return-value]

    @property
    def errors(self) -> Job:
        return self & {"status": "error"}  # type: ignore[return-value]

    @property
    def ignored(self) -> Job:
        return self & {"status": "ignore"}  # type: ignore[return-value]

    @property
    def completed(self) -> Job:
        return self & {"status": "success"}  # type: ignore[return-value]

    # ---- declaration -----------------------------------------------------------------------
    def table_spec(self) -> TableSpec:
        """The jobs table's DDL spec: the target's FK-derived key attributes, then the job
        columns. A key attribute of the target's own (not from a foreign key) is left out with
        a warning: its keys share one job."""
        target = self._target
        dialect = self.connection.dialect
        heading = target.heading
        inherited = {
            child
            for _, props in target.parents(foreign_key_info=True)
            for child in props["attr_map"]
        }
        key = [n for n in heading.full_primary_key if n in inherited]
        for name in heading.full_primary_key:
            if name not in inherited:
                logger.warning(
                    "Ignoring non-FK primary key attribute `%s` of %s in its jobs table. "
                    "Job granularity will be degraded: all its values share one job.",
                    name,
                    target.full_table_name,
                )
        if not key:
            raise DataJointError(
                f"Cannot create jobs table for {target.full_table_name}: no FK-derived primary "
                "key attributes found."
            )
        columns = [self._key_column(heading[name]) for name in key]
        indexes = []
        for line in parse_definition(JOB_COLUMNS).lines:
            if isinstance(line, AttributeLine):
                columns.append(compile_attribute(dialect, self.database, line))
            elif isinstance(line, IndexLine):
                indexes.append(IndexSpec(line.items, unique=line.unique))
        return TableSpec(
            schema=self.database,
            name=self.table_name,
            columns=tuple(columns),
            primary_key=tuple(key),
            indexes=tuple(indexes),
            comment=f"job reservation table for {target.full_table_name}",
        )

    def _key_column(self, attr: Any) -> ColumnSpec:
        """A key column with the target's type and stored comment (its ``:type:`` marker)."""
        sql_type, values = attr.sql_type, None
        if attr.core == "enum" or sql_type.startswith("enum"):
            # PostgreSQL's enum columns name a schema-level type that the dialect (re)creates
            declared = attr.declared_type if attr.core == "enum" else sql_type
            values = enum_values(declared)
            sql_type = self.connection.dialect.core_type_sql(declared, schema=self.database)
        return ColumnSpec(
            name=attr.name,
            sql_type=sql_type,
            nullable=False,
            default=None,
            comment=attr.stored_comment,
            enum_values=values,
        )

    def declare(self, context: dict[str, Any] | None = None) -> None:
        """Create the jobs table if it does not exist (``context`` is not used)."""
        conn = self.connection
        if conn.in_transaction:
            raise DataJointError(
                "Cannot declare new tables inside a transaction, e.g. from inside a populate/make call"
            )
        statements = conn.dialect.create_table_sql(self.table_spec())
        for attempt in range(_DECLARE_ATTEMPTS):
            try:
                self._run_ddl(statements)
                break
            except Exception:
                # Workers starting together declare the same table at once. CREATE ... IF NOT
                # EXISTS is not safe against that on PostgreSQL: the loser gets a duplicate
                # (enum type, index) or a deadlock between the two transactions' DDL locks. Its
                # statements were rolled back; it succeeds once it finds the winner's table.
                if self.is_declared:
                    break
                if attempt + 1 == _DECLARE_ATTEMPTS:
                    raise
                time.sleep(0.1 * (attempt + 1))
        heading_cache(conn).pop((self.database, self.table_name), None)
        self._statements = None

    def _run_ddl(self, statements: Sequence[str]) -> None:
        conn = self.connection
        if conn.dialect.capabilities.transactional_ddl:
            with conn.transaction:
                for sql in statements:
                    conn.query(sql)
        else:
            for sql in statements:
                conn.query(sql)

    def ensure_declared(self) -> Job:
        """Declare the jobs table unless it exists; returns self."""
        if not self.is_declared:
            self.declare()
        return self

    # ---- keys ------------------------------------------------------------------------------
    def job_key(self, key: Mapping[str, Any]) -> dict[str, Any]:
        """``key`` restricted to the jobs table's primary-key attributes."""
        try:
            return {name: key[name] for name in self.primary_key}
        except KeyError as missing:
            raise DataJointError(
                f"The key {dict(key)!r} lacks attribute {missing} of the primary key of "
                f"{self.full_table_name}."
            ) from None

    def _sql(self) -> _Statements:
        if self._statements is None:
            self._statements = _Statements(self)
        return self._statements

    @property
    def version(self) -> str:
        """This process's code version per ``jobs.version_method`` (computed once)."""
        if self._version is None:
            self._version = code_version(self.connection.config.jobs.version_method)
        return self._version

    def _user_name(self) -> str:
        if self._user is None:
            self._user = str(self.connection.get_user())[:255]
        return self._user

    def _server_time(self, offset_seconds: float = 0.0) -> Any:
        """The server's current time plus ``offset_seconds``, as its driver returns it (bound
        again unchanged, so that comparisons with stored times are exact)."""
        dialect = self.connection.dialect
        now = dialect.escape_raw(dialect.current_timestamp_sql(3))
        sql = "SELECT " + dialect.shifted_timestamp_sql(now)
        return self.connection.query(sql, [float(offset_seconds)]).fetchone()[0]

    # ---- the queue -------------------------------------------------------------------------
    def reserve(self, key: Mapping[str, Any]) -> bool:
        """Mark a pending, due job reserved by this process: one conditional UPDATE; True iff it
        changed the row (so exactly one of several competing workers gets True)."""
        statements = self._sql()
        conn = self.connection
        pid, reserver = os.getpid(), self._reserver
        # who reserves: computed once per process and session (a forked worker has its own)
        if reserver is None or reserver[0] != pid or reserver[1] != conn.connection_id:
            values = [
                "reserved",
                platform.node()[:255],
                pid,
                int(conn.connection_id or 0),
                self._user_name(),
                self.version,
            ]
            reserver = self._reserver = (pid, conn.connection_id, values)
        params = [*reserver[2], *statements.key_params(key), "pending"]
        return conn.query(statements.reserve, params, transient=True).rowcount == 1

    def complete(self, key: Mapping[str, Any], duration: float | None = None) -> None:
        """The key's make succeeded: with ``jobs.keep_completed`` the job becomes 'success'
        (with the server's completion time and ``duration``), otherwise it is deleted."""
        self._finish(key, duration, self.connection.config.jobs.keep_completed)

    def _finish(self, key: Mapping[str, Any], duration: float | None, keep: bool) -> None:
        """:meth:`complete` with ``jobs.keep_completed`` given as ``keep`` (populate reads the
        setting once per call, not once per key)."""
        statements = self._sql()
        key_params = statements.key_params(key)
        if keep:
            duration = None if duration is None else float(duration)
            self.connection.query(
                statements.complete, ["success", duration, *key_params], transient=True
            )
        else:
            self.connection.query(statements.delete, key_params, transient=True)

    def error(
        self, key: Mapping[str, Any], error_message: str, error_stack: str | None = None
    ) -> None:
        """Record that the key's make failed: status 'error', the server's completion time, the
        message (cut to 2047 characters) and the stack."""
        statements = self._sql()
        message = truncate_message(str(error_message))
        stack = statements.encode_stack(error_stack)
        params = ["error", message, stack, *statements.key_params(key)]
        if self.connection.query(statements.error, params).rowcount == 0:
            # the job row is gone (refreshed or deleted meanwhile): record the error anyway
            self._insert_jobs(
                [self.job_key(key)],
                status="error",
                extra={
                    "completed_time": self._server_time(),
                    "error_message": message,
                    "error_stack": error_stack,
                },
            )

    def ignore(self, key: Mapping[str, Any]) -> None:
        """Mark the key 'ignore' so that populate skips it (inserting the job if absent)."""
        statements = self._sql()
        if self.connection.query(
            statements.ignore, ["ignore", *statements.key_params(key)]
        ).rowcount:
            return
        self._insert_jobs([self.job_key(key)], status="ignore")

    def _insert_jobs(
        self,
        keys: Sequence[Mapping[str, Any]],
        *,
        status: str,
        priority: int | None = None,
        scheduled_time: Any = None,
        extra: Mapping[str, Any] | None = None,
    ) -> int:
        """Insert job rows for ``keys`` (duplicates skipped); returns how many were inserted."""
        if not keys:
            return 0
        if priority is None:
            priority = self.connection.config.jobs.default_priority
        values: dict[str, Any] = {"status": status, "priority": priority}
        if scheduled_time is not None:
            values["scheduled_time"] = scheduled_time
        values.update(extra or {})
        columns = [*self.primary_key, *values]
        encoders = [AttributeEncoder(self, name) for name in columns]
        dialect, conn = self.connection.dialect, self.connection
        inserted = 0
        for start in range(0, len(keys), _INSERT_CHUNK):
            chunk = keys[start : start + _INSERT_CHUNK]
            rows = [{**dict(k), **values} for k in chunk]
            params = []
            for row in rows:
                for encode, name in zip(encoders, columns, strict=True):
                    value = encode(row[name], row)
                    params.append(None if value is DEFAULT else value)
            sql = dialect.insert_sql(
                self.database,
                self.table_name,
                columns,
                len(rows),
                on_duplicate="skip",
                primary_key=self.primary_key,
            )
            inserted += max(conn.query(sql, params).rowcount, 0)
        return inserted

    def pending_keys(
        self,
        candidates: Any = None,
        priority: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """The keys ready to run: pending and due, restricted by ``candidates`` (no semantic
        check) and by ``priority <= priority``, most urgent first, at most ``limit``."""
        query = self.table & {"status": "pending"}
        query = _with_node(query, self._due())
        if candidates is not None:
            query = query.restrict(candidates, semantic_check=False)
        if priority is not None:
            query = _with_node(query, m.Compare(m.Column("priority"), "<=", m.Param(int(priority))))
        return query.keys(order_by=["priority", "scheduled_time"], limit=limit)

    def _due(self) -> m.Node:
        now = self.connection.dialect.current_timestamp_sql(3)
        return m.Compare(m.Column("scheduled_time"), "<=", m.RawSQL(now))

    # ---- maintenance -----------------------------------------------------------------------
    def refresh(
        self,
        *restrictions: Any,
        delay: float = 0,
        priority: int | None = None,
        stale_timeout: float | None = None,
        orphan_timeout: float | None = None,
    ) -> dict[str, int]:
        """Bring the queue in line with the key source (SPEC §9); declares the table if needed.

        Adds the new keys of ``key_source & restrictions`` as pending (due ``delay`` seconds
        from now, with ``priority``), re-pends completed jobs whose result is gone (with
        ``jobs.keep_completed``), removes jobs whose key left the key source, and puts reserved
        jobs older than ``orphan_timeout`` seconds back to pending. Returns the counts
        ``added``, ``removed``, ``orphaned`` and ``re_pended``.
        """
        self.ensure_declared()
        settings = self.connection.config.jobs
        if priority is None:
            priority = settings.default_priority
        if stale_timeout is None:
            stale_timeout = settings.stale_timeout
        key_source = self._key_source()
        target = self._target.proj()
        restricted = key_source & AndList(restrictions)
        jobs = self.table

        result = {"added": 0, "removed": 0, "orphaned": 0, "re_pended": 0}
        new = (restricted.proj() - target).restrict(Not(jobs.proj()), semantic_check=False)
        keys = new.keys()
        if keys:
            scheduled = self._server_time(delay)
            result["added"] = self._insert_jobs(
                keys, status="pending", priority=priority, scheduled_time=scheduled
            )
        if settings.keep_completed:
            redo = jobs.completed.restrict(restricted.proj(), semantic_check=False)
            redo = redo.restrict(Not(target), semantic_check=False)
            result["re_pended"] = self._repend(redo, priority)

        gone: Any = jobs.restrict(Not(key_source.proj()), semantic_check=False)
        finished: Any = (gone & [{"status": "success"}, {"status": "error"}]).restrict(
            Not(target), semantic_check=False
        )
        result["removed"] = finished.delete_quick(get_count=True) or 0
        if stale_timeout and stale_timeout > 0:
            cutoff = self._server_time(-float(stale_timeout))
            stale: Any = _with_node(
                gone - {"status": "ignore"},
                m.Compare(m.Column("created_time"), "<", m.Param(cutoff)),
            )
            result["removed"] += stale.delete_quick(get_count=True) or 0
        if orphan_timeout and orphan_timeout > 0:
            cutoff = self._server_time(-float(orphan_timeout))
            orphans = _with_node(
                jobs.reserved, m.Compare(m.Column("reserved_time"), "<", m.Param(cutoff))
            )
            result["orphaned"] = self._repend(orphans, None)
        return result

    def _key_source(self) -> Any:
        target: Any = self._target
        try:
            return target.key_source
        except AttributeError:
            raise DataJointError(
                f"{self._target.full_table_name} has no key_source: refresh its jobs through "
                "its auto-populated table class (Computed or Imported), not a FreeTable."
            ) from None

    def _repend(self, query: Any, priority: int | None) -> int:
        """Turn the jobs of ``query`` back into fresh pending jobs (one UPDATE); the count."""
        conn, dialect = self.connection, self.connection.dialect
        now = dialect.escape_raw(dialect.current_timestamp_sql(3))
        assignments: list[tuple[str, str]] = [
            ("status", dialect.placeholder),
            ("created_time", now),
            ("scheduled_time", now),
            ("reserved_time", "NULL"),
            ("completed_time", "NULL"),
            ("duration", "NULL"),
            ("error_message", dialect.placeholder),
            ("error_stack", "NULL"),
            ("host", dialect.placeholder),
            ("pid", dialect.placeholder),
            ("connection_id", dialect.placeholder),
            ("user", dialect.placeholder),
        ]
        params: list[Any] = ["pending", "", "", 0, 0, ""]
        if priority is not None:
            assignments.append(("priority", dialect.placeholder))
            params.append(int(priority))
        where = m.conjunction(list(query._restriction))
        if where is None:
            where_sql, where_params = "1 = 1", []
        else:
            where_sql, where_params = dialect.render(where)
        sql = dialect.update_sql(self.database, self.table_name, assignments, where_sql)
        return int(conn.query(sql, params + where_params).rowcount)

    def progress(self) -> dict[str, int]:
        """Jobs per status plus ``total`` (all zero when the jobs table does not exist)."""
        counts = dict.fromkeys(STATUSES, 0)
        if self.is_declared:
            dialect = self.connection.dialect
            status = dialect.quote("status")
            sql = dialect.escape_raw(
                f"SELECT {status}, COUNT(*) FROM "
                f"{dialect.full_table_name(self.database, self.table_name)} GROUP BY {status}"
            )
            for name, count in self.connection.query(sql).fetchall():
                counts[str(name)] = int(count)
        counts["total"] = sum(counts[s] for s in STATUSES)
        return counts

    def delete(self, *args: Any, **kwargs: Any) -> int:
        """Delete the (restricted) jobs with no prompt and no cascade; the number deleted."""
        return self.delete_quick(get_count=True) or 0

    def drop(self, *args: Any, **kwargs: Any) -> None:
        """Drop the jobs table with no prompt (it is declared again on next use)."""
        if self._restriction:
            raise DataJointError(
                "A restricted jobs table cannot be dropped: to remove some jobs, use delete(); "
                "call drop() on the unrestricted jobs table."
            )
        self.drop_quick()
        _job_cache(self.connection).pop((self.database, self.table_name), None)
        heading_cache(self.connection).pop((self.database, self.table_name), None)
        self._statements = None


def _with_node(query: Any, node: m.Node) -> Any:
    """``query`` further restricted by a query-model condition the kernel builds itself."""
    return query._derive(restriction=(*query._restriction, node))


class _Statements:
    """The per-key statements of one jobs table, rendered once (headings are read once)."""

    def __init__(self, job: Job) -> None:
        dialect = job.connection.dialect
        self.key = list(job.primary_key)
        self.encoders = [AttributeEncoder(job, name) for name in self.key]
        self.stack_encoder = AttributeEncoder(job, "error_stack")
        now = dialect.escape_raw(dialect.current_timestamp_sql(3))
        ph = dialect.placeholder

        def q(name: str) -> str:
            return dialect.escape_raw(dialect.quote(name))

        key_sql = " AND ".join(f"{q(name)} = {ph}" for name in self.key)

        def update(assignments: list[tuple[str, str]], where: str) -> str:
            return dialect.update_sql(job.database, job.table_name, assignments, where)

        self.reserve = update(
            [
                ("status", ph),
                ("host", ph),
                ("pid", ph),
                ("connection_id", ph),
                ("user", ph),
                ("version", ph),
                ("reserved_time", now),
            ],
            f"{key_sql} AND {q('status')} = {ph} AND {q('scheduled_time')} <= {now}",
        )
        self.complete = update(
            [("status", ph), ("completed_time", now), ("duration", ph)],
            key_sql,
        )
        self.error = update(
            [
                ("status", ph),
                ("completed_time", now),
                ("error_message", ph),
                ("error_stack", ph),
            ],
            key_sql,
        )
        self.ignore = update([("status", ph)], key_sql)
        self.delete = dialect.delete_sql(job.database, job.table_name, key_sql)
        self._job = job

    def key_params(self, key: Mapping[str, Any]) -> list[Any]:
        """The bound values of the key's job-key attributes, in key order."""
        try:
            return [
                value if type(value) in encoder.pass_through else encoder(value)
                for encoder, value in zip(self.encoders, [key[n] for n in self.key], strict=True)
            ]
        except KeyError as missing:
            raise DataJointError(
                f"The key {dict(key)!r} lacks attribute {missing} of the primary key of "
                f"{self._job.full_table_name}."
            ) from None

    def encode_stack(self, stack: str | None) -> Any:
        if stack is None:
            return None
        value = self.stack_encoder(stack)
        return None if value is DEFAULT else value


# ---- access from tables and schemas ----------------------------------------------------------
def _job_cache(connection: Any) -> dict[tuple[str, str], Job]:
    """Declared jobs tables by (schema, jobs table name), per connection: ``Table.jobs`` checks
    the catalog and declares only on first use."""
    cache = getattr(connection, "_job_cache", None)
    if cache is None:
        cache = connection._job_cache = {}
    return cache


def jobs_of(target: Any) -> Job:
    """The declared jobs table of ``target`` (``Table.jobs``): declared on first use, then the
    same :class:`Job` for every later access on this connection."""
    table = _unrestricted(target)
    if not getattr(table, "_auto_populated", False):
        raise DataJointError(
            f"{table.full_table_name} is not auto-populated: only Computed and Imported tables "
            "have jobs tables."
        )
    conn = table.connection
    cache = _job_cache(conn)
    name = (table.database, jobs_table_name(table.table_name))
    job = cache.get(name)
    # a drop (of the table or its schema) evicts the heading: then look at the catalog again
    if job is None or type(job._target) is not type(table) or name not in heading_cache(conn):
        job = Job(table).ensure_declared()
        job.heading  # noqa: B018 -- loads and caches the heading, which marks the job valid
        cache[name] = job
    return job


def _auto_populated_classes() -> Iterable[type]:
    from ..user_tables import Computed, Imported

    seen: set[type] = set()
    pending: list[type] = [Imported, Computed]
    while pending:
        cls = pending.pop()
        sub: type
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                pending.append(sub)
                yield sub


def schema_jobs(schema: Any) -> list[Job]:
    """The Job of each Computed/Imported table of ``schema`` whose jobs table exists
    (``schema.jobs``); a table whose class is not loaded gets a FreeTable target."""
    conn = schema.connection
    names = set(conn.introspection.list_tables(conn.run, schema.database))
    classes: dict[str, type] = {}
    for cls in _auto_populated_classes():
        # the schema decorator binds a class by setting these on the class itself
        if (
            cls.__dict__.get("database") == schema.database
            and cls.__dict__.get("_connection") is conn
        ):
            classes[cls().table_name] = cls
    found = []
    for name in sorted(names):
        if not name.startswith("~~"):
            continue
        base = name[2:]
        target_name = next((p + base for p in ("__", "_") if p + base in names), None)
        if target_name is None:
            continue
        bound = classes.get(target_name)
        target = (
            bound() if bound is not None else FreeTable(conn, f"{schema.database}.{target_name}")
        )
        found.append(Job(target))
    return found
