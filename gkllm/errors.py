"""Errors that reach the user as one line: what went wrong, with which file.

Every expected failure is a ``GkllmError`` with a stable ``code``: the CLI
prints ``str(err)`` on one line, a batch writes the code into the file's
error record, and the service answers ``{"error": {"code", "message"}}``
with the HTTP status its code maps to (``gkllm.service.STATUS_BY_CODE``).
The tree, with each class's code (and HTTP status in the service):

    GkllmError                      error              (400)
    ├── InputError                  bad_input          400  missing, special file, empty, binary, corrupt, bad JSON
    │   └── TooLargeError           too_large          413  inflates or grows past a reader's bound (zip or
    │                                                       PDF stream bombs, a reader out of memory)
    ├── UnsupportedFormatError      unsupported_format 415  a zip that is not DOCX, an OLE file that is not Word
    ├── ConverterMissingError       converter_missing  501  LibreOffice is needed and not installed
    ├── NotAReportError             not_a_report       422  reads fine, holds none of the template's tables
    ├── ConfigError                 config_error       500  a bad setting (names the environment variable);
    │                                                       the service refuses to start with one
    ├── DeadlineExceeded            timeout            504  the caller's deadline passed (service --timeout)
    ├── LLMUnavailable              llm_unavailable    503  no answer: endpoint down, retries exhausted
    └── LLMRejected                 llm_rejected       502  every answer broke the rules, or the endpoint
                                                            refused this request

Anything else that escapes is a bug: the CLI prints ``internal error: …``
on one line, a batch records ``internal_error``, the service answers 500
``internal_error`` with a request id and logs the traceback.
"""

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
    """The file cannot be read at all (missing, a special file, empty, binary, corrupt)."""

    code = "bad_input"


class TooLargeError(InputError):
    """Reading would take more than a reader allows: a member or stream that inflates past
    its bound (a decompression bomb), or a reader that ran out of its memory cap.

    A subclass of ``InputError`` because the input is at fault; callers that only
    know ``bad_input`` still treat it as a bad file.
    """

    code = "too_large"


class UnsupportedFormatError(GkllmError):
    """A format gkllm does not read (a zip archive that is not a Word document, Excel in OLE)."""

    code = "unsupported_format"


class ConverterMissingError(GkllmError):
    """A format needs an external converter (LibreOffice) that is not installed."""

    code = "converter_missing"


class NotAReportError(GkllmError):
    """The text reads fine but holds none of the template's tables."""

    code = "not_a_report"


class ConfigError(GkllmError):
    """A setting is invalid (``GKLLM_TIMEOUT=abc``); the message names the variable.

    Raised where settings are built (``LLMConfig.from_env``, the service's
    ``Settings.from_env``), so a bad value stops the CLI or the service at
    start-up instead of failing every report, and is never blamed on a caller.
    """

    code = "config_error"


class DeadlineExceeded(GkllmError):
    """The work ran past the deadline its caller set (``gkllm.deadline``); it was stopped."""

    code = "timeout"


class LLMUnavailable(GkllmError):
    """No answer could be had: endpoint down, retries exhausted, no model installed."""

    code = "llm_unavailable"


class LLMRejected(GkllmError):
    """The model answered, but every answer broke the rules (after re-asks)."""

    code = "llm_rejected"

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message)
        self.errors = errors
