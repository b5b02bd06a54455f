"""dj-codecs-builtin's entry in the ``datajoint.plugins`` group.

The built-in codecs (<blob>, <attach>, <hash>, <filepath>, <object>, <npy>) are registered here
through ``dj_register_codecs`` once the kernel's codec API lands; the blob serializer they use is in
:mod:`dj_codecs_builtin.blob`.
"""
