"""dj-cli."""
