"""Errors that reach the user as one line: what went wrong, with which file."""

from __future__ import annotations


class GkllmError(Exception):
    """Base for every expected failure; the CLI prints ``str(err)`` and exits non-zero."""

    code = "error"

    def __init__(self, message: str, *, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message


class InputError(GkllmError):
    """The file cannot be read at all (missing, a directory, empty, binary)."""

    code = "bad_input"


class UnsupportedFormatError(GkllmError):
    code = "unsupported_format"


class ConverterMissingError(GkllmError):
    """A format needs an external converter (LibreOffice) that is not installed."""

    code = "converter_missing"


class NotAReportError(GkllmError):
    """The text reads fine but holds none of the template's tables."""

    code = "not_a_report"
