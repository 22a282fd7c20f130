"""One flat row per report, shared by the Excel and Parquet outputs, and the journal that makes them resumable.

Excel and Parquet files cannot be appended to: they are written whole. So that
an interrupted batch loses nothing, each row is also appended, as it is
extracted, to a journal beside the output (``NAME.journal.jsonl``); the output
is rewritten from its old rows plus the journal when the batch ends (also on
Ctrl-C), atomically, and the journal is then removed. A batch killed outright
leaves the journal: the next run counts its rows as done and writes them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any, Callable, Mapping

from ..jsonin import dumps
from ..template import TemplateName, flat_keys

HEAD: tuple[str, ...] = ("file", "sha256", "status", "error_code", "error_message", "agency", "year", "template",
                         "rules_failed", "all_rules_pass", "duplicates")


def value_keys() -> list[str]:
    """Every value key of both templates (2021's in output order, then 2019's own), without meta."""
    keys = [k for k in flat_keys("2021") if not k.startswith("meta.")]
    keys += [k for k in flat_keys("2019") if not k.startswith("meta.") and k not in keys]
    return keys


def columns() -> list[str]:
    return list(HEAD) + value_keys()


def encodable(v: Any) -> Any:
    """Text every output can hold: a file name's undecodable bytes (lone surrogates) become \\udcxx."""
    if isinstance(v, str) and not v.isascii():
        return v.encode("utf-8", "backslashreplace").decode("utf-8")
    return v


def get(data: Mapping[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def template_of(data: Mapping[str, Any]) -> TemplateName:
    return (data.get("meta") or {}).get("template") or "2021"


def flat_of(data: Mapping[str, Any]) -> dict[str, Any]:
    """``Report.to_flat()`` of a report's JSON form."""
    return {k: get(data, k) for k in flat_keys(template_of(data))}


def failed_of(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The failing rules of a report's JSON form: rule, scope, lhs, rhs, detail and the cells (keys) involved."""
    return [{"rule": r["id"], "scope": r["scope"], "status": "failed", "lhs": r.get("lhs"), "rhs": r.get("rhs"),
             "detail": r.get("detail"), "keys": list(r.get("keys") or [])}
            for r in data.get("rules") or [] if r.get("status") == "failed"]


def row_of(rec: Mapping[str, Any]) -> dict[str, Any]:
    """A batch record as one flat row (``columns()``), plus ``_failed`` (the failing rules' details)."""
    row: dict[str, Any] = {k: None for k in columns()}
    row.update(file=encodable(rec["file"]), sha256=rec.get("sha256") or None, status=rec["status"],
               duplicates=[encodable(d) for d in rec.get("duplicates", [])])
    if rec["status"] == "error":
        row.update(error_code=rec["error"]["code"], error_message=encodable(rec["error"]["message"]))
        row["_failed"] = []
        return row
    data = rec["_data"]
    meta = data.get("meta") or {}
    failed = failed_of(data)
    row.update(agency=meta.get("agency"), year=meta.get("year"), template=template_of(data),
               rules_failed=[f"{f['rule']}:{f['scope']}" for f in failed], all_rules_pass=not failed)
    for k in value_keys():
        row[k] = get(data, k)
    row["_failed"] = failed
    return row


def key_of(row: Mapping[str, Any]) -> str:
    """The batch's id of a row: the content hash, or ``file:PATH`` for a file that could not be read."""
    return row.get("sha256") or f"file:{row['file']}"


class JournaledSink:
    """Rows kept in memory and in a journal; the output file is written whole by ``close()``."""

    kind = "output"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal = path.with_name(path.name + ".journal.jsonl")
        self.flat = True
        self.rows: dict[str, dict[str, Any]] = {}
        self.across: Any = None
        self._fh: IO[str] | None = None
        self._opened = False

    # -- subclasses: the file format ------------------------------------------------------

    def read_rows(self) -> list[dict[str, Any]]:
        """The rows of an existing output (refusing a file gkllm did not write)."""
        raise NotImplementedError

    def write_file(self, tmp: Path, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    # -- the batch's interface ------------------------------------------------------------

    def done(self, on_repair: Callable[[str], None] | None = None) -> dict[str, dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        if self.path.exists() and self.path.stat().st_size > 0:
            rows = self.read_rows()
        rows += self._read_journal(on_repair)
        self.rows = {key_of(r): r for r in rows}
        return dict(self.rows)

    def _read_journal(self, on_repair: Callable[[str], None] | None) -> list[dict[str, Any]]:
        if not self.journal.exists():
            return []
        rows, damaged = [], 0
        for line in self.journal.read_bytes().split(b"\n"):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:  # the last line, cut by a kill mid-write: that report is redone
                damaged += 1
                continue
            if isinstance(row, dict) and "file" in row and "status" in row:
                rows.append(row)
        if on_repair:
            on_repair(f"{self.journal}: {len(rows)} report{'s' * (len(rows) != 1)} of an interrupted run recovered "
                      f"into {self.path}" + (f"; {damaged} cut record{'s' * (damaged != 1)} redone" if damaged else ""))
        return rows

    def open(self) -> None:
        self._fh = open(self.journal, "a", encoding="utf-8")
        self._opened = True

    def write(self, rec: dict[str, Any]) -> None:
        assert self._fh is not None
        row = row_of(rec)
        self.rows[key_of(row)] = row
        self._fh.write(dumps(row) + "\n")
        self._fh.flush()

    def across_years(self, result: Any) -> None:
        self.across = result

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if not self._opened:
            return
        self._opened = False
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.write_file(tmp, list(self.rows.values()))
            os.replace(tmp, self.path)
        except OSError as err:
            from . import OutputError

            raise OutputError(f"cannot write {self.path}: {err.strerror or err}; the reports stay in {self.journal} "
                              "and a re-run writes them") from None
        finally:
            if tmp.exists():
                tmp.unlink()
        self.journal.unlink(missing_ok=True)  # everything in it is in the output now
