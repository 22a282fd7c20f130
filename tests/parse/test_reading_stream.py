"""The stream reader on small hand-written inputs: one case per layout trait.

Each input is a report fragment as a converter or crawler prints it; the
expected values are what the printed table says.
"""

from __future__ import annotations

from gkllm import extract
from gkllm.models import Report

COLS = ("natural_person", "commercial", "research", "social_org", "legal_service", "other_org", "total")
HEAD = "某某局2023年政府信息公开工作年度报告\n一、总体情况\n本年度主动公开信息10条。\n"
PART3 = "三、收到和处理政府信息公开申请情况\n"
PART4 = "四、政府信息公开行政复议、行政诉讼情况\n"


def row(report: Report, key: str) -> list:
    return [report.get(f"requests.{key}.{c}") for c in COLS]


def read(text: str) -> Report:
    return extract(HEAD + text, mode="parser", name="t.txt")


def test_crawler_text_with_no_line_structure() -> None:
    text = ("二、主动公开政府信息情况 第二十条第（一）项 信息内容 本年制发件数 本年废止件数 现行有效件数 规章000"
            "行政规范性文件005第二十条第（五）项信息内容本年处理决定数量行政许可308 三、收到和处理政府信息公开申请情况"
            " 申请人情况 自然人 法人或其他组织 总计 商业 企业 其他 一、本年新收政府信息公开申请数量 690000069"
            "二、上年结转政府信息公开申请数量 0000000三、本年度办理结果 （一）予以公开 230000023（二）部分公开"
            "（区分处理的，只计这一情形，不计其他情形） 9000009（三）不予公开 1.属于国家秘密 00000002.其他法律行政法规"
            "禁止公开 3700000372.没有现成信息 四、政府信息公开行政复议、行政诉讼情况 行政复议 行政诉讼 结果维持 "
            "结果纠正 其他结果 尚未审结 总计 10 0 1 200 0 0 0 0 0 0 00 五、存在的主要问题及改进情况 无。")
    r = read(text)
    assert r.get("active.rules.in_force") == 0 and r.get("active.normative_docs.in_force") == 5
    assert r.get("active.licensing") == 308
    assert row(r, "new") == [69, 0, 0, 0, 0, 0, 69]
    assert row(r, "partial") == [9, 0, 0, 0, 0, 0, 9]
    # "00000002.其他…": the 2 is the next label's ordinal, not a digit of this row
    assert row(r, "denied_state_secret") == [0] * 7
    assert [r.get(f"review.reconsideration.{o}") for o in ("upheld", "corrected", "other", "pending", "total")] \
        == [1, 0, 0, 1, 2]


def test_numbers_printed_between_the_halves_of_a_wrapped_label() -> None:
    text = PART3 + ("一、本年新收政府信息公开申请数量 2 0 0 0 0 0 2\n"
                    "                1.本\n"
                    "              机关不掌\n"
                    "                       1   0   0   0   0   0   1\n"
                    "              握相关政\n"
                    "              府信息\n"
                    "              2.没\n"
                    "        （四） 有现成信\n"
                    "                       0   0   0   0   0   0   0\n"
                    "      无法提供  息需要另\n"
                    "            行制作\n")
    r = read(text)
    assert row(r, "unavailable_not_held") == [1, 0, 0, 0, 0, 0, 1]
    assert row(r, "unavailable_needs_creation") == [0] * 7


def test_stacked_labels_then_their_rows_in_order() -> None:
    text = PART3 + ("一、本年新收政府信息公开申请数量\n二、上年结转政府信息公开申请数量\n"
                    "3 0 0 0 0 0 3\n1 0 0 0 0 1 2\n（一）予以公开 2 0 0 0 0 0 2\n")
    r = read(text)
    assert row(r, "new") == [3, 0, 0, 0, 0, 0, 3]
    assert row(r, "carried_over") == [1, 0, 0, 0, 0, 1, 2]
    assert row(r, "granted") == [2, 0, 0, 0, 0, 0, 2]


def test_a_label_column_printed_after_its_numbers() -> None:
    # plain pdftotext of some PDFs: the numbers of three rows, then the three labels
    nums = "\n".join(["5", "0", "0", "0", "0", "0", "5"] + ["1", "0", "0", "0", "0", "0", "1"]
                     + ["3"] + ["0"] * 5 + ["3"])
    text = PART3 + nums + ("\n一、本年新收政府信息公开申请数量\n二、上年结转政府信息公开申请数量\n（一）予以公开\n"
                           "（二）部分公开 0 0 0 0 0 0 0\n")
    r = read(text)
    assert row(r, "new") == [5, 0, 0, 0, 0, 0, 5]
    assert row(r, "carried_over") == [1, 0, 0, 0, 0, 0, 1]
    assert row(r, "granted") == [3, 0, 0, 0, 0, 0, 3]


def test_numbers_around_a_label_in_column_order_are_not_guessed() -> None:
    # the first cell printed inside the label, the other six before it: order cannot say whose they are
    text = PART3 + ("8.属于行政查询事项\n2\n0\n0\n0\n0\n0\n2\n0\n0\n0\n0\n0\n4\n"
                    "1.本机关不掌握相关政府信\n4\n息\n2.没有现成信息需要另行制作 0 0 0 0 0 0 0\n")
    r = read(text)
    assert row(r, "unavailable_not_held") == [None] * 7
    assert row(r, "unavailable_needs_creation") == [0] * 7


def test_a_label_with_characters_missing_is_found() -> None:
    text = PART3 + ("1.属于国家秘密 0 0 0 0 0 0 0\n2.其他法律行政止公开 1 0 0 0 0 0 1\n"
                    "3.危及“三安全一稳定” 0 0 0 0 0 0 0\n")
    assert row(read(text), "denied_law_forbidden") == [1, 0, 0, 0, 0, 0, 1]


def test_other_processing_printed_as_one_row_in_a_2021_report() -> None:
    text = PART3 + ("5.要求行政机关确认或重新出具已获取信息 0 0 0 0 0 0 0\n（六）其他处理 2 0 0 0 0 0 2\n"
                    "（七）总计 2 0 0 0 0 0 2\n")
    r = read(text)
    assert row(r, "other_other") == [2, 0, 0, 0, 0, 0, 2]
    assert row(r, "other_no_correction") == [None] * 7
    assert any(d.kind == "template_variant" and "other_other" in d.message for d in r.diagnostics)


def test_a_page_footer_inside_a_row_is_not_a_cell() -> None:
    text = PART3 + "一、本年新收政府信息公开申请数量 3 0 0\n— 2 —\n0 0 0 3\n"
    assert row(read(text), "new") == [3, 0, 0, 0, 0, 0, 3]


def test_prose_settles_a_glued_part_two_run() -> None:
    text = ("本年度制定规范性文件15件，废止规范性文件6件。\n二、主动公开政府信息情况\n第二十条第（一）项 信息内容 "
            "本年制发件数 本年废止件数 现行有效件数 规章000行政规范性文件15621第二十条第（五）项\n" + PART3 +
            "一、本年新收政府信息公开申请数量 0 0 0 0 0 0 0\n")
    r = read(text)
    assert [r.get(f"active.normative_docs.{k}") for k in ("issued", "repealed", "in_force")] == [15, 6, 21]
    assert "the prose decided" in " ".join(r.provenance["active.normative_docs.issued"].notes)


def test_a_cell_too_long_to_be_a_count_is_a_diagnostic_not_a_crash() -> None:
    text = PART3 + "一、本年新收政府信息公开申请数量 " + "9" * 5000 + "\n（一）予以公开 2 0 0 0 0 0 2\n"
    r = read(text)
    assert row(r, "new") == [None] * 7
    assert row(r, "granted") == [2, 0, 0, 0, 0, 0, 2]


def test_a_hyphen_between_digits_is_a_sign_not_a_blank() -> None:
    # a 2019-template change glued to its neighbours: not readable, and never read as a blank
    text = ("二、主动公开政府信息情况\n第二十条第（五）项 信息内容 上一年项目数量 本年增/减 处理决定数量\n"
            "行政许可12-4395\n" + PART3 + "一、本年新收政府信息公开申请数量 0 0 0 0 0 0 0\n")
    r = read(text)
    assert r.meta.template == "2019"
    assert r.get("active.licensing") is None


def test_only_a_text_with_no_trace_of_the_template_is_not_a_report() -> None:
    import pytest

    from gkllm.errors import NotAReportError

    with pytest.raises(NotAReportError):
        read("这是一篇普通的新闻稿，没有任何表格。\n")
    # one part heading is a trace: a report whose tables are unreadable, not "not a report"
    r = read(PART3 + "表格见附件。\n")
    assert r.requests.new.total is None


def test_a_cell_ocr_could_not_read_is_null_with_a_warning_and_its_row_keeps_its_places() -> None:
    # OCR printed a small 0 as "Q" and as "。": those cells are null (never guessed), the others read
    text = PART3 + ("一、本年新收政府信息公开申请数量\t5\t0\t0\t0\t0\t0\tQ\n"
                    "（一）予以公开\t3\t0\t0\t。\t0\t0\t3\n")
    r = read(text)
    assert row(r, "new") == [5, 0, 0, 0, 0, 0, None]
    assert row(r, "granted") == [3, 0, 0, None, 0, 0, 3]
    assert "requests.new.total: printed 'Q', read as null" in r.warnings
    assert "requests.granted.social_org: printed '。', read as null" in r.warnings
    # a letter printed in a label, or glued to a number, is no cell
    r = read(PART3 + "一、本年新收政府信息公开申请数量 (A类) 5 0 0 0 0 0 5\n")
    assert row(r, "new") == [5, 0, 0, 0, 0, 0, 5]


def test_a_rows_last_cell_before_a_label_that_lost_its_numeral_is_not_an_ordinal() -> None:
    # OCR lost the "二" of "二、上年结转…": the "2" before the line break is new's total, not "2、"
    text = PART3 + ("一、本年新收政府信息公开申请数量\t\t2\t0\t0\t0\t0\t0\t2\n"
                    "、上年结转政府信息公开申请数量\t\t0\t0\t0\t0\t0\t0\t0\n")
    r = read(text)
    assert row(r, "new") == [2, 0, 0, 0, 0, 0, 2]
    assert row(r, "carried_over") == [0] * 7


def test_part_four_is_the_line_of_its_fifteen_numbers_among_stray_header_digits() -> None:
    # OCR read the header word "结果纠正" as "4+用 口": the row is the line of exactly fifteen numbers
    text = PART4 + ("行政复议\t行政诉讼\n结果维持\t4+用 口\t其他结果\t尚未审结\t总计\n"
                    "1\t0\t0\t0\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n五、存在的主要问题及改进情况\n无。\n")
    r = read(text)
    assert r.get("review.reconsideration.upheld") == 1 and r.get("review.reconsideration.total") == 1
    assert r.get("review.litigation_after.total") == 0
    assert "part 4: 1 printed number(s) outside its row's line; not read" in r.warnings
