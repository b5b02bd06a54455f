"""dj-backend-postgres."""
