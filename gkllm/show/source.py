"""The source pane: the normalized text, every value's span wrapped in ``<mark data-key=…>``.

Spans come from the report (untrusted text, gkllm's offsets). They nest: a
digit run split into cells gives disjoint spans, an ambiguous run gives one
span to each of its keys (equal spans: nested marks), a value read by order
may sit inside a wider span. A span that crosses another (starts inside it
and ends past it) is clipped to its enclosing mark, so the HTML always nests;
the mark then says ``data-clipped``.
"""

from __future__ import annotations

import html
import re

from .model import View, format_value

# C0 controls other than tab and newline, DEL and C1 controls, lone surrogates, and U+FFFE/FFFF are not
# text an HTML page can carry: shown as U+FFFD, one for one, so offsets keep their meaning.
_BAD = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean(s: str) -> str:
    return _BAD.sub("\ufffd", s)


def esc(s: object) -> str:
    """Escape text taken from a report for an HTML text node or a quoted attribute."""
    return html.escape(clean(str(s)), quote=True)


class _Writer:
    """Writes text pieces, with a line-number anchor at the start of each line."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.out: list[str] = []
        self.line = 1
        self.out.append(_line_tag(1))

    def text_to(self, start: int, end: int) -> None:
        if end <= start:
            return
        piece = self.text[start:end]
        lines = piece.split("\n")
        for i, part in enumerate(lines):
            if i:
                self.line += 1
                self.out.append("\n" + _line_tag(self.line))
            if part:
                self.out.append(esc(part))


def _line_tag(n: int) -> str:
    return f'<span class="ln" id="L{n}" aria-hidden="true">{n}</span>'


def render_source(view: View) -> str:
    text = view.text
    n = len(text)
    order = {k: i for i, k in enumerate(view.keys)}
    spans = []
    for k, kv in view.keys.items():
        sp = kv.span
        if sp is None:
            continue
        s, e = sp
        if not (0 <= s < e <= n):
            continue  # an offset outside the text: shown in the tables only
        spans.append((s, e, k))
    # outer spans first; equal spans in output order
    spans.sort(key=lambda t: (t[0], -t[1], order[t[2]]))
    w = _Writer(text)
    out = w.out
    pos = 0
    stack: list[list] = []  # [end, index into out of the open tag, start]

    def close() -> None:
        nonlocal pos
        end = stack[-1][0]
        w.text_to(pos, end)
        pos = end
        out.append("</mark>")
        stack.pop()

    for s, e, k in spans:
        while stack and stack[-1][0] <= s:
            close()
        clipped = False
        if stack and e > stack[-1][0]:
            e, clipped = stack[-1][0], True
        if stack and stack[-1][2] == s and stack[-1][0] == e:
            # the same span as the mark around it: only the innermost shows its icons
            out[stack[-1][1]] = out[stack[-1][1]].replace('class="src ', 'class="src dup ', 1)
        w.text_to(pos, s)
        pos = s
        kv = view.keys[k]
        attrs = f'class="src {" ".join(kv.classes())}" data-key="{esc(k)}" id="src-{esc(k)}"'
        if kv.candidates:
            attrs += f' data-candidates="{esc(" | ".join(format_value(c) for c in kv.candidates))}"'
        if kv.page is not None:
            attrs += f' data-page="{kv.page}"'
        if clipped:
            attrs += ' data-clipped="1"'
        badge = kv.source_badge()
        if badge:
            attrs += f' data-badge="{esc(badge)}"'
        out.append(f"<mark {attrs}>")
        stack.append([e, len(out) - 1, s])
    while stack:
        close()
    w.text_to(pos, n)
    return "".join(out)
