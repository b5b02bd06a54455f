"""The kernel's own defaults, registered through the same hooks as any third-party plugin.

Registrations name their implementations lazily (``"module:attr"``), so nothing here imports
pandas, polars or pyarrow: those are imported when a frame is first asked for, and a missing one
gives an ImportError that says which extra to install.
"""

from __future__ import annotations

from .hookspecs import RegisterFetchFormat, hookimpl

_FORMATS = "datajoint.fetch.formats"

#: fetch format name -> implementation
FETCH_FORMATS: dict[str, str] = {
    "dicts": f"{_FORMATS}:fetch_dicts",
    "keys": f"{_FORMATS}:fetch_keys",
    "arrays": f"{_FORMATS}:fetch_arrays",
    "pandas": f"{_FORMATS}:fetch_pandas",
    "polars": f"{_FORMATS}:fetch_polars",
    "arrow": f"{_FORMATS}:fetch_arrow",
}


@hookimpl
def dj_register_fetch_formats(register: RegisterFetchFormat) -> None:
    """Register the kernel's fetch formats: dicts, keys, arrays, pandas, polars and arrow."""
    for name, target in FETCH_FORMATS.items():
        register(name, target)
