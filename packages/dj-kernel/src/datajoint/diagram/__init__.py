"""The pipeline diagram (SPEC §10): ``dj.Diagram``, its operators, cascade, restrict and trace."""

from __future__ import annotations

from .diagram import Diagram

__all__ = ["Diagram"]
