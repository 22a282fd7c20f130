"""JSON from callers (``--given`` files, service bodies), checked before anything uses it;
and JSON for files, written so that it always encodes.

``json.loads`` accepts two things the rest of gkllm cannot handle: nesting so
deep that it raises ``RecursionError`` (or that a later recursive walk does),
and ``"\\ud800"``, a lone surrogate, which loads as a ``str`` that no encoder
will write back out. Both become a one-line ``InputError`` here.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import InputError

MAX_DEPTH = 32  # a given is flat or nests by dotted key (3-4 levels); a report body is 1
_SURROGATE = re.compile("[\ud800-\udfff]")


def load_json(raw: str | bytes, what: str) -> Any:
    """Parse ``raw``; ``what`` names it in the error ("given.json", "JSON body")."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise InputError(f"{what}: JSON nested too deeply (more than {MAX_DEPTH} levels)") from None
    except UnicodeDecodeError:
        raise InputError(f"{what}: not UTF-8 text") from None
    except ValueError as err:
        raise InputError(f"{what}: not JSON: {err}") from None
    check_json(data, what)
    return data


def check_json(data: Any, what: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings (keys included) holding a lone surrogate."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]  # iterative: the depth is what is being checked
    while stack:
        node, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(f"{what}: JSON nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(node, str):
            _check_str(node, where, what)
        elif isinstance(node, dict):
            for k, v in node.items():
                key = f"{where}.{k}" if where else str(k)
                _check_str(k, key, what)
                stack.append((v, key, depth + 1))
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(node))


def _check_str(s: str, where: str, what: str) -> None:
    if not s.isascii() and (m := _SURROGATE.search(s)):
        place = f" in {where.encode('ascii', 'backslashreplace').decode()}" if where else ""
        raise InputError(f"{what}: a lone surrogate \\u{ord(m.group()):04x}{place} at character {m.start()} "
                         "is not text (invalid Unicode)")


def dumps(obj: Any, indent: int | None = None) -> str:
    """``json.dumps`` keeping Chinese readable, but all-ASCII when the text holds a lone surrogate:
    a file name with bytes that are not UTF-8 (a GBK name on a UTF-8 system) decodes to those,
    and no UTF-8 file can hold them raw; escaped, they survive a round trip."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return json.dumps(obj, ensure_ascii=True, indent=indent)
    return text
