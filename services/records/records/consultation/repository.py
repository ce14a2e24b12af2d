"""Storage of consultation records (records/itemkit.py), with its in-memory fake."""
from ..itemkit import repositories
from .orm import consultations

REPOSITORIES = repositories("consultations", consultations)
