"""The one spreadsheet-import capability (portfolio_common/importing.py), as records' importers
use it: `importing.run_import(uow, IMPORTERS[kind], ctx, rows, dry_run=..., basis=...)`."""
from portfolio_common.importing import ACTIONS, MAX_ROWS, describe, run_import  # noqa: F401
