"""``dj.migrate``: open, upgrade and rehearse the upgrade of databases written by DataJoint 0.14
and earlier 2.x releases (SPEC §12).

Every step that changes anything previews by default (``dry_run=True``) and returns a report
(a dict) of what it would do or did. Steps are idempotent, so an interrupted upgrade is resumed
by running it again, and none deletes source data.

Upgrading a 0.14 schema, in order::

    dj.migrate.migrate_columns(schema, dry_run=False)     # :type: markers, longblob -> <blob>
    dj.migrate.migrate_external(schema, dry_run=False, finalize=True)  # blob@ / attach@ stores
    dj.migrate.migrate_filepath(schema, dry_run=False, finalize=True)  # filepath@ stores
    dj.migrate.rebuild_lineage(schema, dry_run=False)     # the ~lineage table
    dj.migrate.add_job_metadata_columns(schema, dry_run=False)  # optional
    dj.migrate.verify_schema_v20(schema)["compatible"]    # True
"""

from .columns import (
    analyze_blob_columns,
    analyze_columns,
    check_migration_status,
    generate_migration_sql,
    migrate_blob_columns,
    migrate_columns,
)
from .external import (
    check_store_configuration,
    migrate_external,
    migrate_external_pointers_v2,
    migrate_filepath,
    verify_external_integrity,
)
from .parallel import (
    backup_schema,
    compare_query_results,
    copy_table_data,
    create_parallel_schema,
    restore_schema,
)
from .upgrade import add_job_metadata_columns, rebuild_lineage, verify_schema_v20

__all__ = [
    "add_job_metadata_columns",
    "analyze_blob_columns",
    "analyze_columns",
    "backup_schema",
    "check_migration_status",
    "check_store_configuration",
    "compare_query_results",
    "copy_table_data",
    "create_parallel_schema",
    "generate_migration_sql",
    "migrate_blob_columns",
    "migrate_columns",
    "migrate_external",
    "migrate_external_pointers_v2",
    "migrate_filepath",
    "rebuild_lineage",
    "restore_schema",
    "verify_external_integrity",
    "verify_schema_v20",
]
