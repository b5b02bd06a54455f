"""dj-cli's entry in the ``datajoint.plugins`` group: it adds dj-cli's hook specs to the kernel's
plugin host, so plugins implementing ``dj_cli_register_commands`` pass the host's unknown-hook
check whenever dj-cli is installed (see :mod:`dj_cli.hookspecs`)."""

from __future__ import annotations

from datajoint import hookimpl
from datajoint.hookspecs import AddHookspecs

from . import hookspecs


@hookimpl
def dj_add_hookspecs(add: AddHookspecs) -> None:
    """Add ``dj_cli_register_commands``."""
    add(hookspecs)
