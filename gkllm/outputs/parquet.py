"""``-o results.parquet``: one row per report, typed columns (pyarrow).

Columns: ``file``, ``sha256``, ``status``, ``error_code``, ``error_message``
(strings), ``agency`` (string), ``year`` (int32), ``template`` (string),
``rules_failed`` (list of "R1:natural_person"), ``all_rules_pass`` (bool),
``duplicates`` (list of paths), then every value key of both templates: counts
as int64, amounts (``active.fees`` 万元, ``t2019.active.procurement.amount``
元, ``narrative.fee_yuan``) as float64, null where the report has no value.
Written whole at the end of the batch; resumable through the journal
(``gkllm.outputs.rows``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..template import key_kind
from . import OutputError, needs
from .rows import HEAD, JournaledSink, columns, value_keys


def schema() -> Any:
    pa = needs("pyarrow", "outputs", "-o *.parquet")
    fields = []
    for name in HEAD:
        if name == "year":
            t = pa.int32()
        elif name in ("rules_failed", "duplicates"):
            t = pa.list_(pa.string())
        elif name == "all_rules_pass":
            t = pa.bool_()
        else:
            t = pa.string()
        fields.append(pa.field(name, t))
    for k in value_keys():
        fields.append(pa.field(k, pa.float64() if key_kind(k) == "amount" else pa.int64()))
    return pa.schema(fields, metadata={"gkllm": "batch results: one row per report"})


class ParquetSink(JournaledSink):
    kind = "Parquet"

    def read_rows(self) -> list[dict[str, Any]]:
        needs("pyarrow", "outputs", "-o *.parquet")
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(self.path)
        except Exception as err:  # pyarrow raises its own ArrowInvalid for a file that is not Parquet
            raise OutputError(f"is not a Parquet file ({type(err).__name__}); give another -o to start a new batch",
                              source=str(self.path)) from None
        if "file" not in table.column_names or "status" not in table.column_names:
            raise OutputError("is not a gkllm batch output (no file/status columns); give another -o to start a "
                              "new batch", source=str(self.path))
        return table.to_pylist()

    def write_file(self, tmp: Path, rows: list[dict[str, Any]]) -> None:
        pa = needs("pyarrow", "outputs", "-o *.parquet")
        import pyarrow.parquet as pq

        names = columns()
        table = pa.Table.from_pylist([{k: r.get(k) for k in names} for r in rows], schema=schema())
        pq.write_table(table, tmp)
