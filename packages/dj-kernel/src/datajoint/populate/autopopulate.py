"""AutoPopulate: Imported and Computed tables fill themselves from their upstream data (SPEC §9).

``populate()`` prepares everything once per call -- the key source, the list of keys, the make
protocol, whether to record job metadata, the jobs table -- so that each key costs only its own
statements: in direct mode BEGIN, the already-made check and COMMIT (plus the job-metadata UPDATE
when the table has those columns) -- no BEGIN at all after a commit that chained the next
transaction, and BEGIN sent with the check in one round trip where the backend can; with
``reserve_jobs=True`` also the reservation and the job's completion. Workers (:mod:`.workers`)
run the same per-key step in child processes.
"""

from __future__ import annotations

import datetime
import functools
import logging
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..algebra import model as m
from ..algebra.conditions import AndList
from ..algebra.expression import QueryExpression, next_alias
from ..algebra.keyed import key_statement
from ..connection import UnitOfWork
from ..errors import DataJointError
from ..heading import compiled
from ..parallel import CORES
from ..values import pass_through
from ..write.provenance import make_context
from .make import make_callable, require_make, run_generator_make, three_part_make

logger = logging.getLogger("datajoint")

#: the hidden job-metadata columns (SPEC §3.3), filled after each successful make
JOB_METADATA_COLUMNS = ("_job_start_time", "_job_duration", "_job_version")

SUCCESS, SKIPPED, ERROR = "success", "skipped", "error"


class AutoPopulate:
    """The populate machinery mixed into ``dj.Imported`` and ``dj.Computed``.

    Subclasses define ``make(key)`` -- or the three parts ``make_fetch(key)``,
    ``make_compute(key, *fetched)`` and ``make_insert(key, *computed)`` -- and call
    ``populate()``. ``key_source`` may be overridden by a property or a ``_key_source`` attribute.
    """

    _key_source: Any = None
    #: True on the class while its make runs: the insert path lets rows in only then
    _allow_insert: bool = False

    #: (connection, table name, key source) of the default key source, built once per class
    _key_source_cache: tuple[Any, str, QueryExpression] | None = None

    if TYPE_CHECKING:  # provided by Table, which every auto-populated class also derives from
        _restriction: tuple[Any, ...]

        @property
        def connection(self) -> Any: ...

        @property
        def heading(self) -> Any: ...

        @property
        def jobs(self) -> Any: ...

        @property
        def full_table_name(self) -> str: ...

        def proj(self, *attributes: Any, **named: str) -> QueryExpression: ...

        def parents(
            self,
            primary: bool | None = None,
            as_objects: bool = False,
            foreign_key_info: bool = False,
        ) -> list[Any]: ...

    # ---- key source ------------------------------------------------------------------------
    @property
    def key_source(self) -> QueryExpression:
        """The keys that ``populate()`` makes: by default the join of the primary-key parents,
        each projected to its primary key (renamed foreign keys with their renames)."""
        if self._key_source is not None:
            source = self._key_source
            return source() if isinstance(source, type) else source
        cls = type(self)
        cached = cls.__dict__.get("_key_source_cache")
        conn = self.connection
        if cached is not None and cached[0] is conn and cached[1] == self.full_table_name:
            return cached[2]
        parents = self.parents(primary=True, as_objects=True, foreign_key_info=True)
        if not parents:
            raise DataJointError(
                "A table must have dependencies from its primary key for auto-populate to work"
            )
        projected = []
        for parent, props in parents:
            renames = {c: p for c, p in props["attr_map"].items() if c != p}
            projected.append(parent.proj(**renames))
        source = functools.reduce(lambda a, b: a * b, projected)
        cls._key_source_cache = (conn, self.full_table_name, source)
        return source

    # ---- make ------------------------------------------------------------------------------
    def make(self, key: dict, **make_kwargs: Any) -> Any:
        """Compute and insert the rows for ``key``.

        This default runs the three-part protocol as a generator (SPEC §9); a table that defines
        neither ``make`` nor all of ``make_fetch``/``make_compute``/``make_insert`` gets
        NotImplementedError.
        """
        require_make(self)
        return three_part_make(self, key, **make_kwargs)

    @property
    def upstream(self) -> Any:
        """The upstream rows of the key being made (SPEC §9): ``Diagram.trace(self & key)``,
        built on first access and kept for the rest of this make. Index it by table class or
        name: ``self.upstream[Session]``. Only inside make()."""
        context = make_context.get()
        if context is None:
            raise DataJointError(
                "self.upstream is only available inside make(). Outside make, restrict the "
                "upstream tables yourself, e.g. (Parent & key)."
            )
        # kept with the make's own context object (not in it: provenance records that dict)
        memo = self.__dict__.get("_upstream_memo")
        if memo is None or memo[0] is not context:
            # the diagram sits above populate; this one use is deferred to make time
            from ..diagram import Diagram

            memo = self.__dict__["_upstream_memo"] = (context, Diagram.trace(self & context["key"]))
        return memo[1]

    # ---- populate --------------------------------------------------------------------------
    def populate(
        self,
        *restrictions: Any,
        suppress_errors: bool = False,
        return_exception_objects: bool = False,
        reserve_jobs: bool = False,
        max_calls: int | None = None,
        display_progress: bool = False,
        processes: int = 1,
        make_kwargs: dict[str, Any] | None = None,
        priority: int | None = None,
        refresh: bool | None = None,
    ) -> dict[str, Any]:
        """Call ``make`` for every key of ``key_source & restrictions`` not yet in this table.

        Returns ``{"success_count": n, "error_list": [(key, message or exception), ...]}``. With
        ``reserve_jobs=True`` the keys come from the jobs table and each is reserved first, so
        any number of workers can populate the same table (SPEC §9).
        """
        conn = self.connection
        if conn.in_transaction:
            raise DataJointError("Populate cannot be called during a transaction.")
        if self._restriction:
            raise DataJointError(
                "Cannot call populate on a restricted table. Instead, pass conditions to "
                "populate() as arguments."
            )
        candidates = self._candidates(restrictions)
        run = self._prepare_run(
            reserve_jobs, make_kwargs, suppress_errors, return_exception_objects
        )
        restore_sigterm = _install_sigterm_handler() if reserve_jobs else None
        try:
            if reserve_jobs:
                if refresh is None:
                    refresh = conn.config.jobs.auto_refresh
                if refresh:
                    run.jobs.refresh(*restrictions, priority=priority, delay=-1)
                keys = run.jobs.pending_keys(
                    candidates if restrictions else None, priority=priority, limit=max_calls
                )
            else:
                missing: Any = candidates - self.proj()  # fetch methods are installed at import
                keys = missing.keys(limit=max_calls)
            return self._populate_keys(run, keys, processes, display_progress)
        finally:
            if restore_sigterm is not None:
                restore_sigterm()

    def _candidates(self, restrictions: tuple[Any, ...]) -> QueryExpression:
        """``(key_source & AndList(restrictions)).proj()``, after checking the key source."""
        source = self.key_source
        if not isinstance(source, QueryExpression):
            raise DataJointError("Invalid key_source value")
        names = set(self.heading.names)
        for name in source.primary_key:
            if name not in names:
                raise DataJointError(
                    f"The populate target lacks attribute {name} from the primary key of key_source"
                )
        return (source & AndList(restrictions)).proj()

    def _prepare_run(
        self,
        reserve_jobs: bool,
        make_kwargs: dict[str, Any] | None,
        suppress_errors: bool,
        return_exception_objects: bool,
    ) -> PopulateRun:
        make, generator = make_callable(self, AutoPopulate.make)
        jobs = self.jobs if reserve_jobs else None
        return PopulateRun(
            table=self,
            make=make,
            generator=generator,
            make_kwargs=dict(make_kwargs or {}),
            jobs=jobs,
            suppress_errors=suppress_errors,
            return_exception_objects=return_exception_objects,
            version=jobs.version if jobs is not None else _job_version(self.connection.config),
            metadata=all(c in self.heading._attributes for c in JOB_METADATA_COLUMNS),
            full_table_name=self.full_table_name,
            keep_completed=bool(jobs is not None and self.connection.config.jobs.keep_completed),
        )

    def _populate_keys(
        self, run: PopulateRun, keys: list[dict], processes: int, display_progress: bool
    ) -> dict[str, Any]:
        success_count, error_list = 0, []
        workers = min(max(int(processes), 1), len(keys), CORES)
        if workers > 1:
            from .workers import populate_in_pool

            outcomes: Iterable[tuple[str, Any]] = populate_in_pool(
                run, keys, workers, display_progress
            )
        else:
            todo = progress_bar(keys, type(self).__name__) if display_progress else keys
            outcomes = (populate_one(run, key) for key in todo)
        with _inserts_allowed(type(self)), _chained(run, workers):
            for status, entry in outcomes:
                if status == SUCCESS:
                    success_count += 1
                elif status == ERROR:
                    error_list.append(entry)
        return {"success_count": success_count, "error_list": error_list}

    # ---- progress --------------------------------------------------------------------------
    def progress(self, *restrictions: Any, display: bool = False) -> tuple[int, int]:
        """``(remaining, total)``: the candidate keys and those not yet made, in one query."""
        candidates = self._candidates(restrictions)
        key = list(candidates.primary_key)
        conn = self.connection
        dialect = conn.dialect
        made = "_dj_made"
        target = self.proj().make_select(key, distinct=True)
        target = m.Select(
            source=m.SubquerySource(target, next_alias()),
            items=(*(m.SelectItem(m.Column(k)) for k in key), m.SelectItem(m.RawSQL("1"), made)),
        )
        counts = m.Select(
            source=m.JoinSource(
                m.SubquerySource(candidates.make_select(key, distinct=True), next_alias()),
                m.SubquerySource(target, next_alias()),
                using=tuple(key),
                left_outer=True,
            ),
            items=(
                m.SelectItem(m.RawSQL("COUNT(*)")),
                m.SelectItem(
                    m.RawSQL(f"SUM(CASE WHEN {dialect.quote(made)} IS NULL THEN 1 ELSE 0 END)")
                ),
            ),
        )
        total, remaining = conn.execute_model(counts).fetchone()
        total, remaining = int(total or 0), int(remaining or 0)
        if display:
            done = total - remaining
            percent = 100.0 * done / total if total else 100.0
            logger.info(
                "%-20s Completed %d of %d (%2.1f%%)   %s",
                type(self).__name__,
                done,
                total,
                percent,
                datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            )
        return remaining, total


@dataclass
class PopulateRun:
    """What one populate call prepares once and every key (in any process) reuses."""

    table: Any
    make: Callable
    generator: bool
    make_kwargs: dict[str, Any]
    jobs: Any
    suppress_errors: bool
    return_exception_objects: bool
    version: str
    metadata: bool
    full_table_name: str
    #: ``jobs.keep_completed`` when the run started (read once, not per key)
    keep_completed: bool = False
    #: the already-made check, compiled on first use
    made_check: MadeCheck | None = None


class MadeCheck:
    """``bool(table & key)`` for a key of the table's primary key, as one statement rendered
    once: each key then only binds its values. The statement reads at most one row of a constant
    (``SELECT 1 ... LIMIT 1``: no row means not made), which costs the server and the driver a
    little less than an ``EXISTS`` row. A key of another shape, a value that would need adapting
    (a numpy scalar, a UUID given as text, None) or a restricted table takes the general path."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.connection = table.connection
        heading = table.heading
        self.key = tuple(heading.full_primary_key)
        self.names = frozenset(self.key)
        self.types = tuple(pass_through(heading[k].core) for k in self.key)
        self.sql: str | None = None
        if not (table.restriction or table._top is not None or table._group_by is not None):
            self.sql = _check_statement(table, self.key)

    def values(self, key: dict) -> list[Any] | None:
        """The values ``key`` binds to :attr:`sql`, or None when it takes the general path."""
        if self.sql is None or key.keys() != self.names:
            return None
        values = [key[k] for k in self.key]
        for value, types in zip(values, self.types, strict=True):  # cheaper than all()
            if type(value) not in types:
                return None
        return values

    def __call__(self, key: dict) -> bool:
        values = self.values(key)
        if values is None or self.sql is None:
            return bool(self.table & key)
        return self.connection.query(self.sql, values, transient=True).fetchone() is not None

    def begin(self, unit: UnitOfWork, key: dict) -> bool:
        """Begin ``unit``'s transaction and check ``key`` inside it: the BEGIN and the compiled
        check travel in one round trip where the backend can
        (:meth:`~datajoint.connection.Connection.start_transaction_with`)."""
        values = self.values(key)
        if values is None or self.sql is None:
            unit.begin()
            return bool(self.table & key)
        return unit.begin_with(self.sql, values, transient=True).fetchone() is not None


def _check_statement(table: Any, key: tuple[str, ...]) -> str | None:
    """The SQL of :class:`MadeCheck` for an unrestricted ``table`` (None where
    :func:`~datajoint.algebra.keyed.key_statement` finds none), rendered once per heading and
    dialect: ``populate(key)`` called key by key renders it once, not once per call."""
    dialect = table.connection.dialect

    def render() -> str | None:
        one = m.SelectItem(m.RawSQL("1"))
        select = replace(table.make_select(), items=(one,), order_by=(), limit=1, offset=0)
        return key_statement(dialect, select, key)

    return compiled(table.heading, dialect, ("made check", table.full_table_name, key), render)


@contextmanager
def _inserts_allowed(cls: type) -> Iterator[None]:
    """Let the insert path accept rows into ``cls`` (``_allow_insert``) until the block ends."""
    was_allowed = cls.__dict__.get("_allow_insert")
    cls._allow_insert = True  # type: ignore[attr-defined]
    try:
        yield
    finally:
        if was_allowed is None:
            del cls._allow_insert  # type: ignore[attr-defined]
        else:
            cls._allow_insert = was_allowed  # type: ignore[attr-defined]


def _chained(run: PopulateRun, workers: int) -> AbstractContextManager[None]:
    """Chained transactions (:meth:`~datajoint.connection.Connection.chained_transactions`)
    for a loop of plain makes in this process without jobs: each commit then opens the next
    key's transaction, whose first statement is the already-made check. A reservation, or a
    generator's first pass, must run outside any transaction, and so does not chain."""
    if workers > 1 or run.jobs is not None or run.generator:
        return nullcontext()
    return run.table.connection.chained_transactions()


def populate_one(run: PopulateRun, key: dict) -> tuple[str, Any]:
    """Make one key: ``(SUCCESS, None)``, ``(SKIPPED, None)`` or ``(ERROR, (key, error))``.

    The make's rows and the job metadata commit together or not at all; errors are recorded in
    the jobs table (distributed mode) and re-raised unless ``suppress_errors`` (a SystemExit, as
    raised on SIGTERM, always is). The caller lets the make's inserts in: ``populate()`` once for
    all its keys, a worker process once when it starts.
    """
    table, jobs = run.table, run.jobs
    if jobs is not None and not jobs.reserve(key):
        return SKIPPED, None
    made_check = run.made_check
    if made_check is None:
        made_check = run.made_check = MadeCheck(table)
    unit = UnitOfWork(made_check.connection, None, mode="transaction")
    token = make_context.set(
        {"table": run.full_table_name, "key": dict(key), "version": run.version}
    )
    started = datetime.datetime.now() if run.metadata else None
    start_clock = time.monotonic()
    try:
        if run.generator:
            if made_check(key):
                return _already_done(run, key)
            run_generator_make(run.make, dict(key), run.make_kwargs, unit.begin)
        else:
            if made_check.begin(unit, key):
                unit.rollback()
                return _already_done(run, key)
            run.make(dict(key), **run.make_kwargs)
        duration = time.monotonic() - start_clock
        if started is not None:
            _record_job_metadata(table, key, started, duration, run.version)
        if jobs is not None:  # in the make's transaction: one commit less per key
            jobs._finish(key, duration, run.keep_completed)
        unit.commit()
    except (Exception, KeyboardInterrupt, SystemExit) as error:
        unit.rollback(error)
        return _failed(run, key, error)
    finally:
        make_context.reset(token)
    return SUCCESS, None


def _already_done(run: PopulateRun, key: dict) -> tuple[str, Any]:
    if run.jobs is not None:
        run.jobs._finish(key, None, run.keep_completed)
    return SKIPPED, None


def _failed(run: PopulateRun, key: dict, error: BaseException) -> tuple[str, Any]:
    """Record a failed make; re-raise it unless errors are suppressed."""
    text = str(error)
    message = f"{type(error).__name__}: {text}" if text else type(error).__name__
    if run.jobs is not None:
        try:
            run.jobs.error(key, message, traceback.format_exc())
        except Exception as record_error:  # the make's error matters more than its record
            logger.warning("Could not record the error of key %s: %s", key, record_error)
    if isinstance(error, SystemExit) or not run.suppress_errors:
        raise error
    logger.error("Error making %s -> %s: %s", key, run.table.full_table_name, message)
    return ERROR, (key, error if run.return_exception_objects else message)


def _record_job_metadata(
    table: Any, key: dict, started: datetime.datetime, duration: float, version: str
) -> None:
    """UPDATE the hidden ``_job_*`` columns of the rows just made for ``key``."""
    conn = table.connection
    dialect = conn.dialect
    where_sql, where_params = dialect.render(m.conjunction(list((table & key)._restriction)))
    sql = dialect.update_sql(
        table.database,
        table.table_name,
        [(c, dialect.placeholder) for c in JOB_METADATA_COLUMNS],
        where_sql,
    )
    conn.query(sql, [started, duration, version[:64], *where_params], transient=True)


def _job_version(config: Any) -> str:
    """The code version recorded with each make (``jobs.version_method``)."""
    from .jobs import code_version

    return code_version(config.jobs.version_method)


def progress_bar(items: Iterable[Any], desc: str, total: int | None = None) -> Iterable[Any]:
    """``items`` wrapped in a tqdm progress bar (``display_progress=True``)."""
    from tqdm import tqdm  # type: ignore[import-untyped]  # (no stubs; imported only when asked)

    return tqdm(items, desc=desc, total=total)


def _raise_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit("SIGTERM received")


def _install_sigterm_handler() -> Callable[[], None] | None:
    """Turn SIGTERM into SystemExit("SIGTERM received"); returns what restores the old handler.

    Signal handlers can only be set from the main thread; elsewhere SIGTERM keeps its handler.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.signal(signal.SIGTERM, _raise_sigterm)
    # None means a handler installed outside Python: the default action is the closest we can do
    restored = signal.SIG_DFL if previous is None else previous

    def restore() -> None:
        signal.signal(signal.SIGTERM, restored)

    return restore
