"""The results database: ``-o results.sqlite`` (embedded, the default) or ``-o postgresql://…``.

Tables (the same in SQLite and PostgreSQL):

- ``reports``: one row per distinct content. ``report`` (the id: the
  content's sha256, or ``file:PATH`` for a file that could not be read),
  ``file``, ``sha256``, ``agency`` (as printed), ``agency_key`` (the agency it
  was matched to across years, ``gkllm.agency``), ``year``, ``template``,
  ``status`` (ok or error), ``error_code``, ``error``, ``duplicates`` (JSON list
  of other files with the same content), ``mode``, ``format``, ``gkllm_version``.
- ``"values"``: long form, one row per report and key of its template, null
  values included: ``report``, ``key``, ``value``, and where it was read:
  ``method``, ``line``, ``start``, ``"end"``, ``page`` (null until a reader
  records pages), ``text``.
- ``rules``: every verdict: ``report``, ``rule`` (R1…R6, NONNEG), ``scope``,
  ``status``, ``lhs``, ``rhs``, ``detail``, ``other_report``. R6 rows belong to
  the later report; their scope names both files and ``other_report`` is the
  earlier one.
- ``diagnostics``: ``report``, ``n``, ``kind``, ``keys`` and ``candidates``
  (JSON), ``message``; the report's warnings are here too, kind ``warning``.

(``values`` and ``end`` are SQL keywords: quote them, ``"values"``, ``"end"``.)

Each report is written in one transaction, upserted by its id, so a batch
killed at any point holds each report once, whole or not at all, and a re-run
skips every content hash already there. R6 is redone over the whole database
at the end of each batch.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from typing import Any, Callable, Iterable, Sequence

from ..compare import R6_KEYS
from ..template import flat_keys
from . import OutputError, is_database_url, needs
from .rows import encodable, failed_of, get, key_of, template_of

SCHEMA_VERSION = 1


def _ddl(real: str, value: str) -> list[str]:
    return [
        "CREATE TABLE IF NOT EXISTS gkllm_schema (version INTEGER NOT NULL)",
        """CREATE TABLE IF NOT EXISTS reports (
            report TEXT PRIMARY KEY, file TEXT NOT NULL, sha256 TEXT, agency TEXT, agency_key TEXT, year INTEGER,
            template TEXT, status TEXT NOT NULL, error_code TEXT, error TEXT, duplicates TEXT, mode TEXT,
            format TEXT, gkllm_version TEXT)""",
        f"""CREATE TABLE IF NOT EXISTS "values" (
            report TEXT NOT NULL REFERENCES reports(report) ON DELETE CASCADE, key TEXT NOT NULL, value {value},
            method TEXT, line INTEGER, start INTEGER, "end" INTEGER, page INTEGER, text TEXT,
            PRIMARY KEY (report, key))""",
        f"""CREATE TABLE IF NOT EXISTS rules (
            report TEXT NOT NULL REFERENCES reports(report) ON DELETE CASCADE, rule TEXT NOT NULL,
            scope TEXT NOT NULL, status TEXT NOT NULL, lhs {real}, rhs {real}, detail TEXT, other_report TEXT,
            PRIMARY KEY (report, rule, scope))""",
        """CREATE TABLE IF NOT EXISTS diagnostics (
            report TEXT NOT NULL REFERENCES reports(report) ON DELETE CASCADE, n INTEGER NOT NULL,
            kind TEXT NOT NULL, keys TEXT, message TEXT, candidates TEXT, PRIMARY KEY (report, n))""",
        'CREATE INDEX IF NOT EXISTS values_key ON "values" (key)',
        "CREATE INDEX IF NOT EXISTS rules_failed ON rules (rule, status)",
        "CREATE INDEX IF NOT EXISTS reports_agency_year ON reports (agency_key, year)",
    ]


REPORT_COLUMNS = ("report", "file", "sha256", "agency", "year", "template", "status", "error_code", "error",
                  "duplicates", "mode", "format", "gkllm_version")


def redact(url: str) -> str:
    """A database URL fit for a message: no password."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


class _Connection:
    """What both databases share: explicit transactions over ``self.conn`` (in autocommit mode)."""

    conn: Any

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()


class _Sqlite(_Connection):
    placeholder = "?"
    # NUMERIC affinity: counts stay integers, amounts decimals
    ddl = _ddl("REAL", "NUMERIC")

    def __init__(self, path: str) -> None:
        self.name = path
        try:
            self.conn = sqlite3.connect(path, isolation_level=None)  # transactions are explicit: BEGIN … COMMIT
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA journal_mode = WAL")  # readers (a query while the batch runs) do not block it
            self.conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: a commit survives a killed process
        except sqlite3.DatabaseError as err:
            raise OutputError(f"is not a SQLite database ({err}); give another -o to start a new batch",
                              source=path) from None

    def rollback(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def tables(self) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def columns(self, table: str) -> set[str]:
        return {r[1] for r in self.conn.execute(f'PRAGMA table_info("{table}")')}



class _Postgres(_Connection):
    placeholder = "%s"
    ddl = _ddl("DOUBLE PRECISION", "DOUBLE PRECISION")

    def __init__(self, url: str) -> None:
        psycopg = needs("psycopg", "outputs", "-o postgresql://…")
        self.name = redact(url)
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as err:
            msg = " ".join(str(err).split())
            raise OutputError(f"cannot connect to {self.name}: {msg}") from None

    def rollback(self) -> None:
        try:
            self.conn.execute("ROLLBACK")
        except Exception:  # the connection is gone: nothing to roll back, and the first error is the one to say
            pass

    def tables(self) -> set[str]:
        rows = self.conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                 "current_schema()").fetchall()
        return {r[0] for r in rows}

    def columns(self, table: str) -> set[str]:
        rows = self.conn.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = "
                                 "current_schema() AND table_name = %s", (table,)).fetchall()
        return {r[0] for r in rows}



def _db_error(err: BaseException) -> bool:
    if isinstance(err, sqlite3.Error):
        return True
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(err, psycopg.Error)


class DatabaseSink:
    """Write each report in its own transaction; skip what is there; R6 over everything at the end."""

    kind = "database"

    def __init__(self, target: str) -> None:
        self.target = target
        self.flat = True
        self.db: Any = None

    # -- connection and schema ------------------------------------------------------------

    def _connect(self) -> None:
        if self.db is not None:
            return
        self.db = _Postgres(self.target) if is_database_url(self.target) else _Sqlite(self.target)
        try:
            tables = self.db.tables()
            if "reports" in tables and not {"report", "file", "status"} <= self.db.columns("reports"):
                raise OutputError("holds a 'reports' table that gkllm did not make; give another -o to start a new "
                                  "batch", source=self.db.name)
            for stmt in self.db.ddl:
                self.db.conn.execute(stmt)
            if not self._all("SELECT version FROM gkllm_schema"):
                self._run("INSERT INTO gkllm_schema (version) VALUES (?)", (SCHEMA_VERSION,))
        except OutputError:
            self.db.close()
            self.db = None
            raise
        except Exception as err:  # sqlite3.DatabaseError / psycopg.Error: one line, naming the database
            name = self.db.name
            self.db.close()
            self.db = None
            raise OutputError(f"cannot use the database: {' '.join(str(err).split())}", source=name) from None

    def _sql(self, sql: str) -> str:
        return sql if self.db.placeholder == "?" else sql.replace("?", "%s")

    def _run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.db.conn.execute(self._sql(sql), params)

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            self.db.conn.cursor().executemany(self._sql(sql), rows)

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self.db.conn.execute(self._sql(sql), params).fetchall())

    # -- the batch's interface ------------------------------------------------------------

    def done(self, on_repair: Callable[[str], None] | None = None) -> dict[str, dict[str, Any]]:
        """Reports already in the database, with what R6 needs of each."""
        if not is_database_url(self.target) and not os.path.exists(self.target):
            return {}  # a new SQLite file is made by open(), once the batch runs
        self._connect()
        out: dict[str, dict[str, Any]] = {}
        for report, file, sha, status, agency, year in self._all(
                "SELECT report, file, sha256, status, agency, year FROM reports"):
            out[report] = {"file": file, "sha256": sha, "status": status, "meta.agency": agency, "meta.year": year}
        marks = ", ".join("?" for _ in R6_KEYS)
        for report, key, value in self._all(f'SELECT report, key, value FROM "values" WHERE key IN ({marks})',
                                            R6_KEYS):
            if report in out:
                out[report][key] = value
        return out

    def open(self) -> None:
        self._connect()

    def write(self, rec: dict[str, Any]) -> None:
        """One report, in one transaction. A database error stops the batch in one line (the output is
        gone or full: nothing more can be kept); every report committed before it stays."""
        try:
            self._write(rec)
        except OutputError:
            raise
        except Exception as err:  # sqlite3.Error, psycopg.Error: named, on one line
            if not _db_error(err):
                raise
            raise OutputError(f"cannot write {rec['file']} to the database: {' '.join(str(err).split())}; the "
                              "reports written before are kept, and a re-run resumes", source=self.db.name) from None

    def _write(self, rec: dict[str, Any]) -> None:
        report = key_of(rec)
        data = rec.get("_data") or {}
        meta = data.get("meta") or {}
        err = rec.get("error") or {}
        row = (report, encodable(rec["file"]), rec.get("sha256") or None, meta.get("agency"), meta.get("year"),
               meta.get("template"), rec["status"], err.get("code"), encodable(err.get("message")),
               json.dumps([encodable(d) for d in rec.get("duplicates", [])], ensure_ascii=False),
               meta.get("mode"), meta.get("format"), meta.get("gkllm_version"))
        cols = ", ".join(REPORT_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in REPORT_COLUMNS[1:])
        self.db.begin()
        try:
            self._run(f"INSERT INTO reports ({cols}) VALUES ({', '.join('?' for _ in REPORT_COLUMNS)}) "
                      f"ON CONFLICT (report) DO UPDATE SET {updates}", row)
            self._run('DELETE FROM "values" WHERE report = ?', (report,))
            self._run("DELETE FROM rules WHERE report = ? AND rule <> 'R6'", (report,))
            self._run("DELETE FROM diagnostics WHERE report = ?", (report,))
            if rec["status"] == "ok":
                self._write_report(report, data)
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise

    def _write_report(self, report: str, data: dict[str, Any]) -> None:
        prov = data.get("provenance") or {}
        values = []
        for key in flat_keys(template_of(data)):
            if key.startswith("meta."):
                continue
            p = prov.get(key) or {}
            values.append((report, key, get(data, key), p.get("method"), p.get("line"), p.get("start"), p.get("end"),
                           p.get("page"), p.get("text")))
        self._many('INSERT INTO "values" (report, key, value, method, line, start, "end", page, text) '
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", values)
        self._many("INSERT INTO rules (report, rule, scope, status, lhs, rhs, detail) VALUES (?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (report, rule, scope) DO NOTHING",
                   [(report, r["id"], r["scope"], r["status"], r.get("lhs"), r.get("rhs"), r.get("detail"))
                    for r in data.get("rules") or []])
        diags = [(d.get("kind"), d.get("keys"), d.get("message"), d.get("candidates"))
                 for d in data.get("diagnostics") or []]
        diags += [("warning", [], w, []) for w in data.get("warnings") or []]
        self._many("INSERT INTO diagnostics (report, n, kind, keys, message, candidates) VALUES (?, ?, ?, ?, ?, ?)",
                   [(report, n, kind, json.dumps(keys or [], ensure_ascii=False), encodable(msg),
                     json.dumps(cands or [], ensure_ascii=False, default=str))
                    for n, (kind, keys, msg, cands) in enumerate(diags, 1)])

    def across_years(self, result: Any) -> None:
        """R6 over every report in the database: the pairs replace the previous run's; agency_key updated."""
        try:
            self._across_years(result)
        except Exception as err:
            if not _db_error(err):
                raise
            raise OutputError(f"cannot write R6 across years: {' '.join(str(err).split())}",
                              source=self.db.name) from None

    def _across_years(self, result: Any) -> None:
        self.db.begin()
        try:
            self._run("DELETE FROM rules WHERE rule = 'R6'")
            rows = []
            for p in result.pairs:
                for res in p.results:
                    rows.append((p.later.key, "R6", p.scope(res.scope), res.status, res.lhs, res.rhs, res.detail,
                                 p.earlier.key))
            self._many("INSERT INTO rules (report, rule, scope, status, lhs, rhs, detail, other_report) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (report, rule, scope) DO NOTHING", rows)
            self._run("UPDATE reports SET agency_key = agency")
            renamed = [(canonical, name) for name, canonical in result.grouping.agency_of.items() if name != canonical]
            self._many("UPDATE reports SET agency_key = ? WHERE agency = ?", renamed)
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


__all__ = ["DatabaseSink", "failed_of", "redact"]
