"""Data models: the case that goes in and the result that comes out."""

from ketascreen.models.case import Case
from ketascreen.models.result import Finding, Result

__all__ = ["Case", "Finding", "Result"]
