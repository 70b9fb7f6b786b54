"""Reqflo: API journey testing, versioned and runnable anywhere."""

from __future__ import annotations

__version__ = "0.1.0"
