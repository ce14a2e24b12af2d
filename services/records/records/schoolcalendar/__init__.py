"""records' copy of the school calendar, fed by `calendar-changed` (submission owns calendars):
the upload window and the per-semester upload limit of each term, checked at the upload ticket."""
