"""dj-codecs-builtin."""
