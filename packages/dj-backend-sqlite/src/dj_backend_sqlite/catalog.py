"""SQLite catalog conventions of dj-kernel.

SQLite has no schemas inside one database file, and foreign keys cannot cross ATTACHed files, so
every DataJoint schema lives in the same file and a table of schema ``s`` named ``t`` is the SQLite
table ``"s.t"``. Two hidden tables hold what SQLite's own catalog does not:

* ``"~schemata"`` -- one row per schema (``schema_name``);
* ``"~catalog"`` -- per table, the table comment (row with ``column_name = ''``) and per column its
  declared native type and comment.
"""

SCHEMATA = "~schemata"
CATALOG = "~catalog"

BOOTSTRAP = (
    f"CREATE TABLE IF NOT EXISTS `{SCHEMATA}` (schema_name TEXT PRIMARY KEY NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS `{CATALOG}` ("
    "schema_name TEXT NOT NULL, table_name TEXT NOT NULL, column_name TEXT NOT NULL, "
    "sql_type TEXT NOT NULL DEFAULT '', comment TEXT NOT NULL DEFAULT '', "
    "PRIMARY KEY (schema_name, table_name, column_name))",
)


def physical_name(schema: str, table: str) -> str:
    """The SQLite table name of ``schema``.``table``."""
    return f"{schema}.{table}"


def split_physical_name(name: str) -> tuple[str, str]:
    """Inverse of :func:`physical_name`."""
    schema, _, table = name.partition(".")
    return schema, table
