"""The fetch API of query expressions (SPEC §7).

Every result shape is a fetch format registered with the plugin host (``dj_register_fetch_formats``):
``Q.to(name, ...)`` reads a query in any registered format, and ``to_dicts``, ``to_arrays``,
``keys``, ``to_pandas``, ``to_polars`` and ``to_arrow`` are shorthands for the kernel's own
formats (:mod:`datajoint.fetch.formats`). ``fetch1``, ``head``/``tail``, iteration and the
previews are built on the same reader (:mod:`datajoint.fetch.reader`).

The fetch layer sits above the query algebra: :mod:`datajoint.algebra` never imports it. Instead,
``import datajoint`` calls :func:`install_fetch_api` once, which puts the methods of
:class:`FetchAPI` on ``QueryExpression`` itself (the same function objects, so a call costs what
an inherited method costs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from types import FunctionType
from typing import Any, Literal

from ..errors import DataJointError
from ..plugin_host import host as plugin_host
from . import preview as _preview
from .keyed import keyed_fetch1
from .legacy import legacy_fetch
from .reader import column_decoders, dict_maker, iter_dicts, key_names, row_batches

OrderBy = str | Sequence[str] | None


class FetchAPI:
    """Ways to read the rows of a query expression; installed on QueryExpression by
    :func:`install_fetch_api`."""

    # what the methods use of the expression they are installed on (annotations only: the
    # algebra provides them, so the fetch layer needs no import of it)
    connection: Any
    proj: Callable[..., Any]

    # ---- formats ---------------------------------------------------------------------------
    def to(self, name: str, /, *args: Any, **options: Any) -> Any:
        """The result in the fetch format registered as ``name`` (see ``dj.plugins()``).

        ``Q.to("pandas", order_by="KEY", limit=10)`` equals ``Q.to_pandas(order_by="KEY",
        limit=10)``; a format from a plugin package is read the same way. An unknown name raises
        PluginError listing the installed formats.
        """
        fetcher = plugin_host().get("fetch_format", name)
        return fetcher(self, *args, **options)

    def to_dicts(
        self,
        order_by: OrderBy = None,
        limit: int | None = None,
        offset: int | None = None,
        squeeze: bool = False,
    ) -> list[dict[str, Any]]:
        """Every row as a dict of decoded values (codecs, uuid, json, dates).

        Any of ``order_by``/``limit``/``offset`` applies ``dj.Top`` (a limit alone orders by the
        primary key); ``squeeze`` drops singleton dimensions of array values.
        """
        return self.to("dicts", order_by=order_by, limit=limit, offset=offset, squeeze=squeeze)

    def to_pandas(
        self,
        order_by: OrderBy = None,
        limit: int | None = None,
        offset: int | None = None,
        squeeze: bool = False,
    ) -> Any:
        """A pandas DataFrame of the rows, indexed by the primary key when there are rows."""
        return self.to("pandas", order_by=order_by, limit=limit, offset=offset, squeeze=squeeze)

    def to_polars(
        self,
        order_by: OrderBy = None,
        limit: int | None = None,
        offset: int | None = None,
        squeeze: bool = False,
    ) -> Any:
        """A polars DataFrame of the rows (needs ``pip install datajoint[polars]``)."""
        return self.to("polars", order_by=order_by, limit=limit, offset=offset, squeeze=squeeze)

    def to_arrow(
        self,
        order_by: OrderBy = None,
        limit: int | None = None,
        offset: int | None = None,
        squeeze: bool = False,
    ) -> Any:
        """A pyarrow Table of the rows (needs ``pip install datajoint[arrow]``)."""
        return self.to("arrow", order_by=order_by, limit=limit, offset=offset, squeeze=squeeze)

    def to_arrays(
        self,
        *attrs: str,
        include_key: bool = False,
        order_by: OrderBy = None,
        limit: int | None = None,
        offset: int | None = None,
        squeeze: bool = False,
        dtypes: Literal["wide", "declared"] = "wide",
    ) -> Any:
        """A structured numpy array of the rows, or one array per attribute of ``attrs``.

        With ``attrs``, one attribute gives a bare array and several a tuple; ``include_key=True``
        puts the list of primary-key dicts first: ``keys, a, b = Q.to_arrays("a", "b",
        include_key=True)``.

        Integer columns come back as int64 and float columns as float64, as in DataJoint 2.x, so
        values match ``to_dicts()``. ``dtypes="declared"`` keeps the declared widths (``int8`` as
        int8, ``float32`` as float32) to save memory on large results.
        """
        return self.to(
            "arrays",
            *attrs,
            include_key=include_key,
            order_by=order_by,
            limit=limit,
            offset=offset,
            squeeze=squeeze,
            dtypes=dtypes,
        )

    def keys(
        self, order_by: OrderBy = None, limit: int | None = None, offset: int | None = None
    ) -> list[dict[str, Any]]:
        """The primary-key values of every row, as dicts (``proj().to_dicts()``)."""
        return self.to("keys", order_by=order_by, limit=limit, offset=offset)

    # ---- single rows and windows -----------------------------------------------------------
    def fetch1(self, *attrs: str, squeeze: bool = False) -> Any:
        """The one row of the result: a dict, or the values of ``attrs`` from it.

        One attribute gives its value, several a tuple; ``"KEY"`` stands for the primary-key
        dict. Zero or several rows raise DataJointError.
        """
        found = keyed_fetch1(self, attrs, squeeze)
        if found is None:
            query = self._fetch1_query(attrs)
            names = query.heading.names
            make = dict_maker(names, column_decoders(query, names, squeeze))
            with closing(row_batches(query, names, max_rows=2)) as batches:
                rows = [r for batch in batches for r in make(batch)]
            key = key_names(query)
        else:
            rows, key = found
        if len(rows) != 1:
            if not attrs:
                raise DataJointError("fetch1 requires exactly one tuple in the input set.")
            count = len(rows) if len(rows) < 2 else len(self._fetch1_query(attrs))
            raise DataJointError(f"fetch1 should only return one tuple. {count} tuples found")
        row = rows[0]
        if not attrs:
            return row
        values = [{k: row[k] for k in key} if a == "KEY" else row[a] for a in attrs]
        return values[0] if len(values) == 1 else tuple(values)

    def _fetch1_query(self, attrs: Sequence[str]) -> Any:
        """The expression ``fetch1(*attrs)`` reads: the attributes with the primary key."""
        return self.proj(*dict.fromkeys(a for a in attrs if a != "KEY")) if attrs else self

    def head(self, limit: int = 25) -> list[dict[str, Any]]:
        """The first ``limit`` rows by primary key, as dicts."""
        return self.to_dicts(order_by="KEY", limit=limit)

    def tail(self, limit: int = 25) -> list[dict[str, Any]]:
        """The last ``limit`` rows by primary key, as dicts in ascending key order."""
        return self.to_dicts(order_by="KEY DESC", limit=limit)[::-1]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Decoded dicts, read from one cursor a batch at a time."""
        return iter_dicts(self)

    # ---- deprecated ------------------------------------------------------------------------
    def fetch(
        self,
        *attrs: str,
        offset: int | None = None,
        limit: int | None = None,
        order_by: OrderBy = None,
        format: str | None = None,
        as_dict: bool | None = None,
        squeeze: bool = False,
    ) -> Any:
        """Deprecated: use ``to_dicts()``, ``to_pandas()``, ``to_arrays()`` or ``keys()``.

        Warns DeprecationWarning, then maps the call as SPEC §7 describes
        (:func:`datajoint.fetch.legacy.legacy_fetch`).
        """
        return legacy_fetch(
            self,
            attrs,
            offset=offset,
            limit=limit,
            order_by=order_by,
            format=format,
            as_dict=as_dict,
            squeeze=squeeze,
        )

    # ---- previews --------------------------------------------------------------------------
    def preview(self, limit: int | None = None, width: int | None = None) -> str:
        """A text table of the first rows (None: ``display.limit`` rows, ``display.width``
        characters per column) with the row count when ``display.show_tuple_count``."""
        return _preview.as_text(self, limit, width)

    def __repr__(self) -> str:
        try:
            config = self.connection.config
        except DataJointError:
            return object.__repr__(self)
        if str(config.loglevel).upper() == "DEBUG":
            return object.__repr__(self)
        return _preview.as_text(self)

    def _repr_html_(self) -> str:
        """An HTML table of the first rows, for notebooks."""
        return _preview.as_html(self)


#: what ``install_fetch_api`` copies: the methods above, not the class's own bookkeeping
_INSTALLED = tuple(
    (name, value)
    for name, value in vars(FetchAPI).items()
    if isinstance(value, FunctionType | property)
)


def install_fetch_api(expression_class: type) -> None:
    """Give ``expression_class`` (``QueryExpression``) the methods of :class:`FetchAPI`.

    A method the class defines itself is never replaced: that would be a name clash between the
    algebra and the fetch API, raised here rather than silently shadowed. Installing twice is a
    no-op.
    """
    own = vars(expression_class)
    for name, value in _INSTALLED:
        if name in own and own[name] is not value:
            raise TypeError(
                f"{expression_class.__qualname__}.{name} is defined by the query algebra and "
                "by the fetch API; rename one of them."
            )
        setattr(expression_class, name, value)
