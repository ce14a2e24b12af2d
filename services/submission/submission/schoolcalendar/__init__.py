"""The school calendar (ARCHITECTURE.md "calendar"): each tenant's terms with their windows,
the national deadline, the derived school completion date and the per-school-year limits.
Owned here; published whole on every change as `calendar-changed`."""
