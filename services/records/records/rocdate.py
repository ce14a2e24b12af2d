"""Dates as schools write them (ROC and Gregorian): portfolio_common/rocdate.py, shared with
submission's imports."""
from portfolio_common.rocdate import ROC_OFFSET, DateInvalid, parse_date, to_roc, to_roc_display  # noqa: F401
