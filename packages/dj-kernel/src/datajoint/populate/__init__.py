"""Auto-populated tables and their jobs (SPEC §9).

:mod:`.autopopulate` holds the ``AutoPopulate`` mixin of ``dj.Imported``/``dj.Computed``
(key_source, make, populate, progress); :mod:`.make` the make protocols and the content hash of
fetched data; :mod:`.workers` the multi-process populate; :mod:`.jobs` the per-table jobs tables.
"""

from .autopopulate import AutoPopulate
from .jobs import Job

__all__ = ["AutoPopulate", "Job"]
