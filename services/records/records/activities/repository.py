"""Storage of activities (records/itemkit.py), with its in-memory fake."""
from ..itemkit import repositories
from .orm import activities

REPOSITORIES = repositories("activities", activities)
