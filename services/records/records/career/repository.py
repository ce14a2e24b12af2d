"""Storage of career-plan assessments (records/itemkit.py), with its in-memory fake."""
from ..itemkit import repositories
from .orm import career_assessments

REPOSITORIES = repositories("career_assessments", career_assessments)
