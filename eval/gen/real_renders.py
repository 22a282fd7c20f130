"""Render the real agency pages to PDF with real tools and read them back (derived real cases).

    python -m eval.gen.real_renders --out eval/cases/real

For every real HTML page ``<name>-page.html`` (with ``<name>-page.gold.json``)
under ``--src`` (default: ``--out``), this writes cases whose gold is the
page's gold, because the numbers are the same numbers, only printed and read
back by other programs:

| file | ``_case.layout`` | made by |
|---|---|---|
| ``<name>-pdf.pdf`` | ``pdf-print`` | Chromium headless ``--print-to-pdf`` of the page's article |
| ``<name>-pdftotext.txt`` | ``pdftotext`` | ``pdftotext -enc UTF-8`` of that PDF |
| ``<name>-pdflayout.txt`` | ``pdftotext-layout`` | ``pdftotext -layout -enc UTF-8`` of that PDF |
| ``<name>-lopdf.pdf`` | ``pdf-soffice`` | LibreOffice headless: the article HTML opened in Writer, exported as PDF |
| ``<name>-lopdftotext.txt`` | ``pdftotext-soffice`` | ``pdftotext`` of the LibreOffice PDF |
| ``<name>-lopdflayout.txt`` | ``pdftotext-layout-soffice`` | ``pdftotext -layout`` of the LibreOffice PDF |

The two PDFs are read by gkllm's PDF reader.

Each gold is the page's gold with ``_case.layout`` set to the tag above and
``_case.derived_from`` saying which page, tool, version and command made it.

What is rendered: the saved page is a whole portal page (menus, search boxes,
link farms, footer: ~2 of its 9 printed pages are the report's start) whose
CSS and JS are on the agency's server, so they cannot load here. The script
cuts out the article as it is printed on the page: the title
(``div.article_title_group``), the 来源/时间 line, and ``div.article_content``,
each copied **byte for byte** from the saved page (the report's tables keep
their real Word/TRS markup, inline styles, ``&nbsp;`` cells and spans), and
wraps them in a minimal UTF-8 document with an A4 ``@page`` rule (and, for
Chromium, a 0.8 cm body margin that keeps Word tables' negative left margins on
the paper). Nothing in the article is edited.

Checks (a rendering that fails one is not written, and the script says why):
every table number of the gold must still be printed in the text read back
from each PDF (as a multiset of numeric tokens after the part 2 heading, so a
lost row or a lost table fails), and a PDF must stay under ``--max-kb``.

Idempotent: the PDFs' creation/modification dates and document IDs are
overwritten in place with fixed values of the same length (the xref offsets
stay valid), so a re-run with the same tools writes the same bytes, and a file
whose bytes did not change is not rewritten.

Needs (Debian): ``apt-get install -y --no-install-recommends chromium
libreoffice-writer-nogui poppler-utils fonts-noto-cjk fonts-wqy-zenhei``. Chromium runs with
``--virtual-time-budget`` and a hard timeout, so an external resource that
never answers cannot hang it. CI does not run this script: its outputs are
committed test data.
"""

from __future__ import annotations

import argparse
import atexit
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "eval" / "cases" / "real"
TIMEOUT = 120  # seconds for one tool run

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--disable-default-apps", "--mute-audio",
    "--virtual-time-budget=5000", "--run-all-compositor-stages-before-draw", "--no-pdf-header-footer",
]

# LibreOffice opens the page in Writer (not Writer/Web: its web layout dropped the title and printed a
# blank first page) and exports a PDF, as a person doing "open the saved page, export as PDF" would.
SOFFICE_ARGS = ["--infilter=HTML (StarWriter)", "--convert-to", "pdf:writer_pdf_Export"]

# Chromium's PDF backend (Skia) writes CFF-flavoured OpenType fonts such as Noto CJK as Type 3 fonts
# (~500 KB a report, and not what office-made PDFs carry); with Noto CJK hidden from it, Chromium falls
# back to WenQuanYi Zen Hei, a TrueType face, embedded as a CID TrueType subset like SimSun from Word/WPS.
FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont><glob>*/NotoSansCJK*</glob><glob>*/NotoSerifCJK*</glob></rejectfont></selectfont>
</fontconfig>
"""
TRUETYPE_CJK = "WenQuanYi Zen Hei"
CHROMIUM_BODY_MARGIN = "0 0 0 0.8cm"

# The minimal document around the article. The @page rule sets A4 (Chinese official documents are
# A4; Chromium defaults to US Letter). Word-exported tables carry negative left margins (03's part 3
# table: margin-left:-16.1pt), which clipped its first column at the paper's edge; the body's 0.8 cm
# left margin keeps every column on the page in Chromium. LibreOffice gets no body margin: its Writer
# import turns it into an indent that pushed the 总计 column off the page (the check below caught it).
WRAPPER = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>@page {{ size: A4; margin: 2cm 1.5cm; }} body {{ margin: {body_margin}; }}</style>
</head>
<body>
{parts}
</body>
</html>
"""


# --- cutting the article out of the saved page ---------------------------------------------


def _div_at(html: str, start: int) -> str:
    """The ``<div …>…</div>`` that opens at ``start``, as the exact source text (nested divs balanced)."""
    depth = 0
    for m in re.finditer(r"<(/?)div\b[^>]*>", html[start:], re.I):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return html[start:start + m.end()]
    raise ValueError(f"unbalanced <div> at offset {start}")


def _find_div(html: str, cls: str) -> str:
    m = re.search(r'<div class="%s[" ]' % re.escape(cls), html)
    if not m:
        raise ValueError(f'no <div class="{cls}…"> in the page')
    return _div_at(html, m.start())


def article_html(page: str, body_margin: str = "0") -> str:
    """The page's article (title, 来源/时间, body) in a minimal document; the article markup untouched."""
    title = _find_div(page, "article_title_group")
    body = _find_div(page, "article_content")
    spans = re.findall(r'<span class="article_(?:source|time)[^"]*">[^<]*</span>', page)
    head_title = re.search(r"<title>(.*?)</title>", page, re.S)
    parts = [title]
    if spans:
        parts.append("<div class=\"article_extend\">" + " ".join(spans) + "</div>")
    parts.append(body)
    return WRAPPER.format(title=head_title.group(1).strip() if head_title else "", parts="\n".join(parts),
                          body_margin=body_margin)


# --- tools -----------------------------------------------------------------------------------


def need(*names: str) -> str:
    for n in names:
        exe = shutil.which(n)
        if exe:
            return exe
    raise SystemExit(f"{names[0]} is needed: apt-get install -y --no-install-recommends chromium "
                     "libreoffice-writer-nogui poppler-utils fonts-noto-cjk fonts-wqy-zenhei")


def _version(cmd: list[str]) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    out = (p.stdout + p.stderr).strip().splitlines()
    lines = [ln for ln in out if re.search(r"\d+\.\d+", ln) and "ERROR" not in ln and "[:" not in ln]
    return lines[0].strip() if lines else "unknown version"


@dataclass
class Tools:
    chromium: str
    soffice: str | None
    pdftotext: str
    versions: dict[str, str]

    @classmethod
    def find(cls, with_soffice: bool) -> "Tools":
        chromium = need("chromium", "chromium-browser", "google-chrome")
        pdftotext = need("pdftotext")
        soffice = need("soffice", "libreoffice") if with_soffice else None
        versions = {"chromium": _version([chromium, "--version"]),
                    "pdftotext": _version([pdftotext, "-v"])}
        if soffice:
            versions["soffice"] = _version([soffice, "--version"])
        fc_list = shutil.which("fc-list")
        if fc_list and TRUETYPE_CJK not in subprocess.run([fc_list], capture_output=True, text=True).stdout:
            raise SystemExit(f"the CJK TrueType font {TRUETYPE_CJK} is needed: apt-get install -y fonts-wqy-zenhei")
        return cls(chromium, soffice, pdftotext, versions)


_LO_PROFILE: str | None = None


def _lo_profile() -> str:
    global _LO_PROFILE
    if _LO_PROFILE is None:
        _LO_PROFILE = tempfile.mkdtemp(prefix="gkllm-real-lo-")
        atexit.register(shutil.rmtree, _LO_PROFILE, True)
    return _LO_PROFILE


def chromium_pdf(tools: Tools, html_path: Path, pdf_path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="gkllm-real-chromium-") as profile:
        conf = Path(profile) / "fonts.conf"
        conf.write_text(FONTCONFIG, encoding="utf-8")
        cmd = [tools.chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
               f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]
        subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=True, stdin=subprocess.DEVNULL,
                       env={**os.environ, "FONTCONFIG_FILE": str(conf)})
    if not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise RuntimeError("Chromium wrote no PDF")


def soffice_pdf(tools: Tools, html_path: Path, pdf_path: Path) -> None:
    assert tools.soffice
    outdir = pdf_path.parent / "lo-out"
    cmd = [tools.soffice, f"-env:UserInstallation=file://{_lo_profile()}", "--headless", "--norestore",
           *SOFFICE_ARGS, "--outdir", str(outdir), str(html_path)]
    subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=True, stdin=subprocess.DEVNULL)
    produced = outdir / (html_path.stem + ".pdf")
    if not produced.is_file():
        raise RuntimeError("LibreOffice wrote no PDF")
    produced.replace(pdf_path)


def pdftotext(tools: Tools, pdf_path: Path, layout: bool) -> str:
    cmd = [tools.pdftotext, "-enc", "UTF-8", *(["-layout"] if layout else []), str(pdf_path), "-"]
    return subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=True).stdout.decode("utf-8")


# --- making PDFs byte-stable -------------------------------------------------------------------


def stabilize_pdf(data: bytes) -> bytes:
    """Fixed dates, document IDs and LibreOffice's /DocChecksum (of the dated file), same lengths
    (so every xref offset stays right)."""

    def fixed_date(m: re.Match) -> bytes:
        digits = re.sub(rb"\d", b"0", m.group(2))
        return m.group(1) + b"20000101" + digits[8:] + m.group(3)

    data = re.sub(rb"(\(D:)(\d{8,14})([^)]*\))", fixed_date, data)
    data = re.sub(rb"(<x[am]p:(?:CreateDate|ModifyDate|MetadataDate)>)(\d{4}-\d\d-\d\d)(T[^<]*<)",
                  lambda m: m.group(1) + b"2000-01-01" + re.sub(rb"\d", b"0", m.group(3)), data)
    data = re.sub(rb"(/ID\s*\[\s*)<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>",
                  lambda m: m.group(0).replace(m.group(2), b"0" * len(m.group(2)))
                                      .replace(m.group(3), b"0" * len(m.group(3))),
                  data)
    data = re.sub(rb"(/DocChecksum\s*/)([0-9A-Fa-f]+)", lambda m: m.group(1) + b"0" * len(m.group(2)), data)
    data = re.sub(rb"(xmpMM:(?:DocumentID|InstanceID)>uuid:)([0-9a-fA-F-]+)",
                  lambda m: m.group(1) + re.sub(rb"[0-9a-fA-F]", b"0", m.group(2)), data)
    return data


# --- checks ------------------------------------------------------------------------------------

_NUM = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?![\d.])")


def missing_numbers(text: str, gold: dict) -> list[str]:
    """Gold table numbers not printed in ``text`` (after the part 2 heading), as a multiset."""
    m = re.search(r"二\s*、\s*主动公开政府信息情况", text)
    tail = text[m.start():] if m else text
    have = collections.Counter(_NUM.findall(tail))
    want: collections.Counter = collections.Counter()
    for key, value in gold.items():
        if key.startswith(("active.", "requests.", "review.", "t2019.")) and value is not None:
            want[_fmt(value)] += 1
    return [f"{v}×{n - have[v]}" for v, n in sorted(want.items()) if have[v] < n]


def _fmt(v: float | int) -> str:
    if isinstance(v, float) and not v.is_integer():
        return repr(v)
    return str(int(v))


# --- one page ----------------------------------------------------------------------------------


@dataclass
class Derived:
    name: str  # file name
    tag: str
    how: str
    data: bytes


def _write(path: Path, data: bytes) -> bool:
    if path.is_file() and path.read_bytes() == data:
        return False
    path.write_bytes(data)
    return True


def _gold_for(page_gold: dict, page_file: str, tag: str, how: str) -> bytes:
    gold = json.loads(json.dumps(page_gold))
    case = gold.setdefault("_case", {})
    case["layout"] = tag
    case["derived_from"] = f"{page_file}: {how}"
    return (json.dumps(gold, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def render_page(page: Path, out: Path, tools: Tools, max_kb: int, work: Path) -> list[str]:
    """Write the derived cases of one page; return one line per file written, skipped or dropped."""
    stem = page.name[: -len("-page.html")]
    gold = json.loads(page.with_name(page.name[: -len(".html")] + ".gold.json").read_text(encoding="utf-8"))
    source = page.read_text(encoding="utf-8")
    v = tools.versions
    cut = (f"article cut from {page.name} by eval/gen/real_renders.py (title, 来源/时间, div.article_content byte for "
           f"byte, in a minimal page: A4, margins 2cm 1.5cm)")
    flags = " ".join(f for f in CHROMIUM_FLAGS)
    lines: list[str] = []
    derived: list[Derived] = []

    renders = [("pdf", "pdf-print", chromium_pdf, CHROMIUM_BODY_MARGIN,
                f"{cut}; {v['chromium']}: FONTCONFIG_FILE=(system fonts.conf minus Noto CJK, so CJK text is "
                f"WenQuanYi Zen Hei TrueType; body margin-left 0.8cm) chromium {flags} --user-data-dir=TMP "
                "--print-to-pdf=OUT.pdf file:///…/article.html",
                "pdftotext", "pdftotext-layout")]
    if tools.soffice:
        renders.append(("lopdf", "pdf-soffice", soffice_pdf, "0",
                        f"{cut}; {v['soffice']}: soffice --headless --norestore "
                        f"{' '.join(repr(a) if ' ' in a else a for a in SOFFICE_ARGS)} article.html",
                        "pdftotext-soffice", "pdftotext-layout-soffice"))
    for suffix, tag, render, body_margin, how, text_tag, layout_tag in renders:
        html_path = work / f"{stem}-{suffix}-article.html"
        html_path.write_text(article_html(source, body_margin), encoding="utf-8")
        pdf_path = work / f"{stem}-{suffix}.pdf"
        try:
            render(tools, html_path, pdf_path)
        except (subprocess.SubprocessError, OSError, RuntimeError) as err:
            lines.append(f"DROPPED {stem}-{suffix}.pdf: {tag} rendering failed: {err}")
            continue
        pdf = stabilize_pdf(pdf_path.read_bytes())
        pdf_path.write_bytes(pdf)
        plain = pdftotext(tools, pdf_path, layout=False)
        layout = pdftotext(tools, pdf_path, layout=True)
        lost = missing_numbers(plain, gold)
        if lost:
            lines.append(
                f"DROPPED {stem}-{suffix}.* ({tag}): table numbers not printed in the PDF's text: {', '.join(lost)}")
            continue
        if len(pdf) > max_kb * 1024:
            lines.append(f"DROPPED {stem}-{suffix}.pdf ({tag}): {len(pdf) // 1024} KB > --max-kb {max_kb}")
            continue
        derived.append(Derived(f"{stem}-{suffix}.pdf", tag, how, pdf))
        for text, ttag, flag, name in ((plain, text_tag, "", f"{stem}-{suffix}totext.txt"),
                                       (layout, layout_tag, " -layout", f"{stem}-{suffix}layout.txt")):
            lost = missing_numbers(text, gold)
            if lost:
                lines.append(f"DROPPED {name} ({ttag}): table numbers missing: {', '.join(lost)}")
                continue
            derived.append(Derived(name, ttag,
                                   f"{how}; then {v['pdftotext']}: pdftotext -enc UTF-8{flag} OUT.pdf OUT.txt",
                                   text.encode("utf-8")))
    for d in derived:
        wrote = _write(out / d.name, d.data)
        gold_name = d.name.rsplit(".", 1)[0] + ".gold.json"
        wrote |= _write(out / gold_name, _gold_for(gold, page.name, d.tag, d.how))
        size = f"{len(d.data) // 1024} KB" if d.name.endswith(".pdf") else f"{len(d.data)} bytes"
        lines.append(f"{'wrote ' if wrote else 'same  '} {d.name} ({d.tag}, {size})")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.gen.real_renders", description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_DIR,
                    help="where the derived cases go (default: eval/cases/real)")
    ap.add_argument("--src", type=Path, default=None, help="where the *-page.html + gold are (default: --out)")
    ap.add_argument("--only", default=None, help="only pages whose name contains this")
    ap.add_argument("--no-soffice", action="store_true", help="skip the LibreOffice set")
    ap.add_argument("--max-kb", type=int, default=400, help="drop a PDF larger than this (default 400)")
    args = ap.parse_args(argv)
    src = args.src or args.out
    pages = sorted(p for p in src.glob("*-page.html") if not args.only or args.only in p.name)
    if not pages:
        print(f"no *-page.html under {src}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    tools = Tools.find(with_soffice=not args.no_soffice)
    print("tools: " + "; ".join(tools.versions.values()), file=sys.stderr)
    dropped = 0
    with tempfile.TemporaryDirectory(prefix="gkllm-real-renders-") as tmp:
        for page in pages:
            for line in render_page(page, args.out, tools, args.max_kb, Path(tmp)):
                dropped += line.startswith("DROPPED")
                print(line, file=sys.stderr)
    return 1 if dropped else 0


if __name__ == "__main__":
    sys.exit(main())
