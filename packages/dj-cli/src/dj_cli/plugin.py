"""dj-cli's entry in the ``datajoint.plugins`` group: its sub-commands are plugins too (see
:mod:`dj_cli.hookspecs`); the kernel host finds nothing to register here."""
