"""Test support shipped with the kernel: server settings, fixtures and contract suites."""
