"""dj-cli's entry in the ``datajoint.plugins`` group (its sub-commands are plugins too)."""
