"""reportkit: turn report rows into CSV."""

from .export import rows_to_csv, write_csv

__all__ = ["rows_to_csv", "write_csv"]
