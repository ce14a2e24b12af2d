"""Storage of in-school competitions (records/itemkit.py), with its in-memory fake."""
from ..itemkit import repositories
from .orm import competitions

REPOSITORIES = repositories("competitions", competitions)
