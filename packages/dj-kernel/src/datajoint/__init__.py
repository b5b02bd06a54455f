"""DataJoint 2.x for Python: ``import datajoint as dj``."""

from .errors import DataJointError, ThreadSafetyError
from .hookspecs import hookimpl
from .plugin_host import plugins

__all__ = ["DataJointError", "ThreadSafetyError", "hookimpl", "plugins"]
