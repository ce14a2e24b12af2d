"""Storage of attendance counts (records/itemkit.py), with its in-memory fake."""
from ..itemkit import repositories
from .orm import attendance_counts

REPOSITORIES = repositories("attendance_counts", attendance_counts)
