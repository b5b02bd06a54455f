"""Property tests of the query algebra (SPEC §6); see README.md."""
