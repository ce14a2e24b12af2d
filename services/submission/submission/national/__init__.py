"""The national side (issue 9 items 5-6): column sets, pre-check, rosters and package, the
national-gateway adapter and its simulator, receipts and corrections.

Layout as the calendar's: `domain` (rules, no I/O), `columnset` (versioned data per school
year in `columnsets/<year>.json`), `rosters` (xlsx and package, constant memory), `repository`
(batches, rows, reports), `usecases` (plain functions over the unit of work), `adapter`
(NATIONAL_ENDPOINT), `simulator` (the national side for the demo and the tests).
"""
