"""What the national rosters need from the student record (asked by the submission service)."""
