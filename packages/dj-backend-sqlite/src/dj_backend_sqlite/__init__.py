"""dj-backend-sqlite."""
