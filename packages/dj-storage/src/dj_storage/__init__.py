"""dj-storage."""
