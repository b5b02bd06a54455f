"""dj-backend-sqlite: the embedded SQLite backend of dj-kernel (one file, zero setup)."""
