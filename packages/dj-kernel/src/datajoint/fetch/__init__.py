"""Reading query results: the fetch API and the fetch-format plugins (SPEC §7).

* :mod:`.api` -- ``FetchAPI``, installed on ``QueryExpression`` by ``import datajoint``:
  ``to(name)``, ``to_dicts``/``to_arrays``/``keys``/``to_pandas``/``to_polars``/``to_arrow``,
  ``fetch1``, ``head``/``tail``, iteration, previews, deprecated ``fetch``;
* :mod:`.formats` -- the kernel's formats, registered by :mod:`datajoint.builtin_plugin`;
* :mod:`.reader` -- ordering (``dj.Top``), cursor batches and streaming, dict rows;
* :mod:`.columns` -- structured and per-attribute arrays straight from cursor rows;
* :mod:`.preview` -- ``repr``/HTML previews; :mod:`.legacy` -- the ``fetch()`` mapping.
"""
