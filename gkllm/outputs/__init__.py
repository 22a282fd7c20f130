"""Batch outputs beyond JSON Lines and CSV, chosen by the ``-o`` name.

=====================  ==========================================================
``-o`` name             output
=====================  ==========================================================
``*.jsonl`` (other)    JSON Lines (``gkllm.batch.Sink``)
``*.csv``              CSV with a UTF-8 byte-order mark (``gkllm.batch.Sink``)
``*.xlsx``             Excel workbook (``gkllm.outputs.xlsx``, openpyxl)
``*.parquet``          Parquet, one typed row per report (``gkllm.outputs.parquet``, pyarrow)
``*.sqlite``, ``*.sqlite3``, ``*.db``   SQLite results database (``gkllm.outputs.database``)
``postgresql://…``     PostgreSQL results database (psycopg)
=====================  ==========================================================

Every sink has the batch's interface: ``done()`` (records already there, by
content hash: what a re-run skips), ``open()``, ``write(record)``,
``across_years(result)`` (R6 between an agency's consecutive reports) and
``close()``. Records are the batch's dicts; an ok record carries the report's
JSON form under ``_data``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import GkllmError

XLSX, PARQUET = (".xlsx",), (".parquet",)
SQLITE = (".sqlite", ".sqlite3", ".db")
POSTGRES = ("postgresql://", "postgres://")
# -o names that take a table of reports rather than one JSON document: any list of files goes through the batch
TABLE_SUFFIXES = (".csv", *XLSX, *PARQUET, *SQLITE)


class OutputError(GkllmError):
    """The output cannot be written or is not one of gkllm's: one line, the batch does not start."""

    code = "output_error"


def is_database_url(output: str | None) -> bool:
    return bool(output) and str(output).lower().startswith(POSTGRES)


def is_table_output(output: str | None) -> bool:
    """Outputs holding a table of reports (CSV, Excel, Parquet, a database), not a JSON document."""
    if not output:
        return False
    return is_database_url(output) or Path(output).suffix.lower() in TABLE_SUFFIXES


def needs(module: str, extra: str, what: str) -> Any:
    """Import an optional library, or fail in one line naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise OutputError(f"{what} needs {module.split('.')[0]} ({err}); pip install 'gkllm[{extra}]'") from None


def sink_for(output: str | None, flat: bool = False) -> Any:
    """The sink an ``-o`` value names (stdout JSON Lines when None)."""
    from ..batch import Sink

    if output is None:
        return Sink(None, flat=flat)
    if is_database_url(output):
        from .database import DatabaseSink

        return DatabaseSink(output)
    suffix = Path(output).suffix.lower()
    if suffix in SQLITE:
        from .database import DatabaseSink

        return DatabaseSink(output)
    if suffix in XLSX:
        from .xlsx import XlsxSink

        return XlsxSink(Path(output))
    if suffix in PARQUET:
        from .parquet import ParquetSink

        return ParquetSink(Path(output))
    return Sink(Path(output), flat=flat)
