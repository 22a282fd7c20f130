"""``GET /v1/show``: a small upload form for the report page (the service's ``POST /v1/show``)."""

from __future__ import annotations

from typing import Iterable

from .. import __version__
from .page import asset, csp_hash
from .source import esc

_CSS = """
body { margin: 0; padding: 16px; font-family: system-ui, "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif;
  color: #1a1d23; background: #f4f5f7; line-height: 1.5; }
main { max-width: 560px; margin: 0 auto; background: #fff; border: 1px solid #d3d8e0; border-radius: 8px;
  padding: 16px 20px; }
h1 { font-size: 1.2rem; margin: 0 0 8px; }
label { display: block; font-weight: 600; margin-top: 10px; }
input, select, textarea, button { font: inherit; }
input[type=file], input[type=password], select, textarea { width: 100%; margin-top: 2px; }
textarea { min-height: 4em; }
button { margin-top: 14px; padding: 6px 16px; border-radius: 6px; border: 1px solid #1849a9; background: #1849a9;
  color: #fff; cursor: pointer; }
button:disabled { opacity: .6; }
:focus-visible { outline: 3px solid #1849a9; outline-offset: 2px; }
small, #result { color: #5b6470; }
#result { margin-top: 10px; overflow-wrap: anywhere; }
"""


def form_csp() -> str:
    """The form's own style and script; the page it shows (a blob: URL made by the form's script) keeps this
    policy as well as its own, so the report page's style and script are allowed too."""
    styles = " ".join(csp_hash(x) for x in (_CSS, asset("show.css")))
    scripts = " ".join(csp_hash(asset(x)) for x in ("form.js", "show.js"))
    return (f"default-src 'none'; style-src {styles}; script-src {scripts}; connect-src 'self'; img-src data:; "
            "base-uri 'none'; form-action 'self'")


def form_page(*, auth: bool, modes: Iterable[str], default: str) -> str:
    options = "".join(f'<option value="{esc(m)}"{" selected" if m == default else ""}>{esc(m)}</option>'
                      for m in modes)
    token = ('<label for="token">Token</label><input type="password" id="token" name="token" autocomplete="off" '
             'required><small>the service\'s GKLLM_TOKEN; sent as "Authorization: Bearer …"</small>') if auth else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>gkllm show</title><style>{_CSS}</style></head><body><main>"
        "<h1>gkllm show</h1><p>Upload a 政府信息公开工作年度报告 (text, HTML, DOCX, DOC/WPS, PDF): "
        "the page shows every "
        "number gkllm reads in the report's own text, with the template's tables beside it.</p>"
        '<form id="upload" method="post" enctype="multipart/form-data">'
        '<label for="file">Report</label><input type="file" id="file" name="file" required>'
        f'<label for="mode">Mode</label><select id="mode" name="mode">{options}</select>'
        '<label for="given">Given <small>(optional: another tool\'s values, a JSON object of flat keys)</small>'
        '</label><textarea id="given" name="given"></textarea>'
        f'{token}<button type="submit">Show</button></form><p id="result" role="status" aria-live="polite"></p>'
        f"<p><small>gkllm {esc(__version__)}</small></p></main>"
        f'<script>{asset("form.js")}</script></body></html>\n'
    )
