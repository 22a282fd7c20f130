"""Encodings, normalization, segmentation and provenance."""

from __future__ import annotations

import pytest

from gkllm import extract
from gkllm.ingest import read_bytes
from gkllm.models import Report
from gkllm.normalize import normalize
from gkllm.segment import Stream, segment
from gkllm.template import flat_keys, table_keys

from .conftest import SEEDS

SEED_003 = next(p for p in SEEDS if p.name.startswith("003"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk", "utf-16"])
def test_encodings_give_the_same_values(encoding):
    text = SEED_003.read_text(encoding="utf-8")
    report = extract(text.encode(encoding), mode="parser", name=f"seed.{encoding}")
    assert report.active.licensing == 15498
    assert report.requests.unavailable_not_held.natural_person == 2
    assert report.meta.encoding is not None


def test_normalize_cleans_word_and_web_debris():
    raw = "[bookmark: _GoBack]行政许可\u200b\t１５４９８&nbsp;\r\n（一）予以公开　〔2021〕"
    assert normalize(raw) == "行政许可\t15498\n(一)予以公开 [2021]"


def test_segment_finds_parts_without_numbering():
    doc = read_bytes(SEED_003.read_bytes(), "003")
    segs = segment(Stream.of(doc))
    assert set(segs) == {1, 2, 3, 4, 5, 6}
    assert doc.text[segs[5].start:].split("\n", 1)[0].strip() == "存在的主要问题及改进情况"


def test_applicant_table_under_part_four_numbering():
    text = SEED_003.read_text(encoding="utf-8")
    text = text.replace("三、收到和处理政府信息公开申请情况", "四、收到和处理政府信息公开申请情况")
    text = text.replace("四、政府信息公开行政复议、行政诉讼情况", "五、政府信息公开行政复议、行政诉讼情况")
    report = extract(text, mode="parser")
    assert report.requests.results_total.total == 3
    assert not report.failed_rules()


def test_part_one_subheadings_do_not_start_part_two():
    text = SEED_003.read_text(encoding="utf-8")
    text = text.replace("（一）主动公开情况", "（一）主动公开政府信息情况\n行政许可 5 件")
    report = extract(text, mode="parser")
    assert report.active.licensing == 15498


def test_provenance_points_at_the_printed_number():
    data = SEED_003.read_bytes()
    doc = read_bytes(data, "003")
    report = extract(data, mode="parser", name="003")
    for key in ("active.licensing", "active.fees", "requests.denied_process_info.natural_person",
                "requests.results_total.total", "narrative.active_items"):
        prov = report.provenance[key]
        assert prov.method == "parser"
        span = doc.text[prov.start:prov.end]
        assert span and span in prov.text
        assert float(span) == report.get(key)
        assert doc.line_of(prov.start) == prov.line
    lic = report.provenance["active.licensing"]
    assert doc.text[lic.start:lic.end] == "15498"
    assert doc.lines[lic.line - 1].strip() == "15498"
    fees = report.provenance["active.fees"]
    assert doc.text[fees.start:fees.end] == "94.0121"
    approx = report.provenance["narrative.active_items"]
    assert approx.approx and doc.text[approx.start:approx.end] == "1300"


def test_every_table_value_has_provenance():
    report = extract(SEED_003, mode="parser")
    assert set(table_keys()) <= set(report.provenance)


def test_blank_cells_are_null_with_warning():
    text = SEED_003.read_text(encoding="utf-8")
    text = text.replace("行政强制\n\t0", "行政强制\n\t/", 1)
    report = extract(text, mode="parser")
    assert report.active.coercion is None
    assert any("active.coercion" in w and "null" in w for w in report.warnings)


def test_models_match_template_keys():
    assert list(Report().to_flat()) == flat_keys("2021")
    r = Report.from_flat({}, meta={"template": "2019"})
    assert list(r.to_flat()) == flat_keys("2019")
    assert "other_no_fee" not in r.to_json_dict()["requests"]
    assert "t2019" not in Report().to_json_dict()
