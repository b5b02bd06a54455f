"""dj-backend-mysql: the MySQL 8 / MariaDB 10.11+ backend of dj-kernel (through pymysql).

The kernel finds it through the ``datajoint.plugins`` entry point (:mod:`dj_backend_mysql.plugin`);
importing this package does not import pymysql.
"""

__version__ = "0.6.0"
