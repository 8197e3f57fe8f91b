"""koken.production.export: Markdown, XLSX and JSON carry the figures, the definitions and the sources."""

import json

from openpyxl import load_workbook

from koken.production.export import ProgressView, to_document, to_markdown, write_progress
from koken.production.metrics import company_progress
from koken.production.rollup import rollup
from koken.production.submission import read_submission

from helpers import PROGRESS


def view():
    companies = [company_progress(read_submission(PROGRESS / n)) for n in ("alpha.yaml", "beta.csv", "gamma.yaml")]
    return ProgressView(companies=companies, rollup=rollup(companies))


def test_markdown_shows_each_table_with_the_definition_and_sources():
    text = to_markdown(view())
    assert "# 行動計画の進捗 / Action-plan progress: Alpha" in text
    assert "## 業界の総量 / Industry totals" in text and "## 提出状況 / Submissions" in text
    assert "real output (10億円; デフレーター / deflator: test deflator)" in text
    assert "test supplier 2019" in text  # a declared factor is disclosed
    assert "without Gamma" in text  # coverage change


def test_a_company_export_holds_no_other_company(tmp_path):
    v = view()
    own = ProgressView(companies=[v.companies[1]], rollup=v.rollup, company_only=True)
    doc = to_document(own)
    text = json.dumps(doc, ensure_ascii=False)
    assert [c["company"] for c in doc["companies"]] == ["Beta"]
    assert "Alpha" not in text and "Gamma" not in text
    assert "completeness" not in doc["industry"]


def test_json_keeps_unrounded_figures_and_hashes(tmp_path):
    path = tmp_path / "p.json"
    write_progress(view(), path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    alpha = doc["companies"][0]
    assert alpha["content_hash"].startswith("sha256:") and alpha["definition"]["deflator"] == "test deflator"
    fy21 = next(y for y in alpha["years"] if y["fiscal_year"] == 2021)
    assert fy21["energy[GJ]"] == 95_656  # 9,500 MWh × 9.76 + 80 kL × 36.7
    assert doc["carrier_table_hash"].startswith("sha256:")


def test_the_workbook_has_a_sheet_per_company_the_industry_and_the_notes(tmp_path):
    path = tmp_path / "p.xlsx"
    write_progress(view(), path)
    wb = load_workbook(path)
    assert wb.sheetnames == ["Alpha", "Beta", "Gamma", "業界 industry", "注記 notes"]
    ws = wb["Alpha"]
    assert ws["A1"].value == "エネルギー原単位 / Energy intensity" and ws["A2"].font.bold
    assert ws.page_setup.orientation == "landscape"


def test_an_unknown_export_type_writes_nothing(tmp_path):
    import pytest

    from koken.base.errors import KokenError

    with pytest.raises(KokenError, match=".md, .xlsx, .json"):
        write_progress(view(), tmp_path / "p.pdf")
    assert not list(tmp_path.iterdir())


def test_a_company_name_cannot_inject_markdown_or_a_spreadsheet_formula(tmp_path):
    # Found by the adversarial pass: a newline started a Markdown heading; "=1+1" became an XLSX formula.
    text = (PROGRESS / "alpha.yaml").read_text(encoding="utf-8")
    for name, bad in (("md.yaml", '"A|B\\n# hi\\x1b"'), ("xl.yaml", '"=1+1"')):
        (tmp_path / name).write_text(text.replace("company: Alpha", f"company: {bad}"), encoding="utf-8")
    md = to_markdown(ProgressView(companies=[company_progress(read_submission(tmp_path / "md.yaml"))], rollup=None))
    assert "\n# hi" not in md and "A\\|B\\x0a# hi\\x1b" in md
    out = tmp_path / "p.xlsx"
    write_progress(ProgressView(companies=[company_progress(read_submission(tmp_path / "xl.yaml"))], rollup=None), out)
    cells = [c for ws in load_workbook(out) for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not any(c.data_type == "f" for c in cells)
    assert any(c.value.startswith("'=1+1") for c in cells)


def test_an_unknown_export_type_is_refused_in_the_chosen_language(tmp_path):
    import pytest

    from koken.base.errors import KokenError
    from koken.base.i18n import language

    v = view()
    with language("ja"), pytest.raises(KokenError) as err:
        write_progress(v, tmp_path / "p.pdf")
    assert "進捗は .md, .xlsx, .json のいずれかの形式で書き出してください。" in str(err.value)
    with language("en"), pytest.raises(KokenError) as err:
        write_progress(v, tmp_path / "p.pdf")
    assert "write the progress view as one of .md, .xlsx, .json" in str(err.value)


def test_notes_and_titles_follow_the_language_and_the_figures_do_not():
    import re

    from koken.base.i18n import language
    from koken.production.export import notes, titled_tables

    v = view()
    with language("ja"):
        ja_notes, ja_tables, ja_md = notes(v), titled_tables(v), to_markdown(v)
    with language("en"):
        en_notes, en_tables, en_md = notes(v), titled_tables(v), to_markdown(v)
    assert [t for t, _ in ja_tables][:2] == ["Alpha：エネルギー原単位とコミットメント目標", "Alpha：CO2排出量とチャレンジ目標"]
    assert [t for t, _ in en_tables][:2] == ["Alpha: intensity", "Alpha: co2"]
    assert "業界：総量" in [t for t, _ in ja_tables]
    assert any(n.startswith("これらは各社の国内生産に伴う排出量") for n in ja_notes)
    assert any("Coverage: FY2022 against the commit base year FY2020: without Gamma" in n for n in en_notes)
    # no English sentence left (the view was computed in English: the notes are made when shown)
    assert not any(re.search(r"\b(the|and|of|is)\b", n) for n in ja_notes[1:-1]), ja_notes
    # the same figures in both languages: every number of every table, and of the Markdown
    for (_, ja_frame), (_, en_frame) in zip(ja_tables, en_tables, strict=True):
        basis = ["算定 / basis"] if "算定 / basis" in ja_frame else []
        assert ja_frame.drop(columns=basis).equals(en_frame.drop(columns=basis))
    figures = re.compile(r"[-+]?\d[\d,]*\.\d+ ?%?")
    assert figures.findall(ja_md.split("## 注記")[0]) == figures.findall(en_md.split("## 注記")[0])
    basis = dict(zip(en_tables[0][1]["算定 / basis"], ja_tables[0][1]["算定 / basis"]))
    assert basis == {"carriers": "エネルギー種別ごと"}
