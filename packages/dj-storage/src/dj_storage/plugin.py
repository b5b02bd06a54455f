"""dj-storage's entry in the ``datajoint.plugins`` group.

It implements no hook: the package installs and loads, and registers no storage protocol.
"""
