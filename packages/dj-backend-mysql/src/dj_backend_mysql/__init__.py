"""dj-backend-mysql."""
