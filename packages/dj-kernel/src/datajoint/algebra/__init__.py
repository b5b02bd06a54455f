"""Query expressions and the backend-neutral query model they compile to."""
