"""koken.production.submission: YAML, CSV and XLSX submissions read into one model, problems located."""

import pytest
from openpyxl import load_workbook

from koken.base.errors import KokenErrors
from koken.production.export import template_xlsx
from koken.production.metrics import company_progress
from koken.production.submission import SUBMISSION_SHEET, read_submission

from helpers import PROGRESS


def test_a_csv_submission_reads_into_the_same_model_as_yaml():
    beta = read_submission(PROGRESS / "beta.csv").spec
    assert beta.company == "Beta" and beta.intensity.unit == "10億円" and beta.base_years.challenge == 2019
    assert beta.years[0].energy == {"electricity_purchased": "4000 MWh", "lpg": "20 t"}
    assert beta.electricity_factors[0].value == 0.45
    assert [m.kind for m in beta.years[2].measures] == ["高効率機器の導入"]


def test_the_bytes_parsed_are_the_bytes_hashed(tmp_path):
    import hashlib

    path = tmp_path / "b.csv"
    path.write_bytes((PROGRESS / "beta.csv").read_bytes())
    assert read_submission(path).content_hash == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_shift_jis_csv_from_a_japanese_office_is_read(tmp_path):
    path = tmp_path / "sjis.csv"
    path.write_bytes((PROGRESS / "beta.csv").read_text(encoding="utf-8").encode("cp932"))
    assert read_submission(path).spec.company == "Beta"


def test_table_problems_name_the_row_and_column(tmp_path):
    text = (PROGRESS / "beta.csv").read_text(encoding="utf-8")
    text = text.replace("2021,エネルギー,lpg", "2021,燃料,lpg").replace("2022,生産活動量", "FY22x,生産活動量")
    text += "2020,エネルギー,lpg,1,t,,\n"
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KokenErrors) as err:
        read_submission(path)
    messages = [str(e) for e in err.value]
    assert any("unknown section '燃料'" in m and "row 18" in m and "column '区分'" in m for m in messages)
    assert any("'FY22x' is not a year" in m for m in messages)
    assert any("appears twice (first in row 15)" in m for m in messages)


def test_a_file_that_is_not_a_submission_says_so(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("format: something-else\ncompany: X\n", encoding="utf-8")
    with pytest.raises(KokenErrors, match="not a koken submission"):
        read_submission(path)


def test_the_template_filled_in_excel_reads_back(tmp_path):
    path = tmp_path / "提出.xlsx"
    path.write_bytes(template_xlsx())
    wb = load_workbook(path)
    ws = wb[SUBMISSION_SHEET]
    assert ws.data_validations.dataValidation, "the section column offers a list"
    # fill it as a company would: the placeholders, then one fact per row
    for row in ws.iter_rows():
        if row[3].value == "（会社名）":
            row[3].value = "テスト電機"
        if row[3].value == "（デフレーターの名称）":
            row[3].value = "test deflator"
        if row[2].value == "コミット基準年度":
            row[3].value = 2021
        if row[2].value == "チャレンジ基準年度":
            row[3].value = 2021
    for fact in [(2021, "エネルギー", "買電（系統電力）", 1000, "MWh"), (2021, "エネルギー", "灯油", 10, "kL"),
                 (2021, "生産活動量", "実質生産高", 5, "10億円")]:
        ws.append(list(fact))
    wb.save(path)
    company = company_progress(read_submission(path))
    # 1,000 MWh × 9.76 GJ/MWh + 10 kL × 36.7 GJ/kL = 10,127 GJ
    assert company.company == "テスト電機"
    assert company.years.iloc[0]["energy[GJ]"] == pytest.approx(10_127)


def test_the_unfilled_template_is_refused_naming_the_placeholder(tmp_path):
    path = tmp_path / "提出.xlsx"
    path.write_bytes(template_xlsx())
    with pytest.raises(KokenErrors, match="placeholder （会社名） is still there"):
        read_submission(path)


def test_a_fractional_fiscal_year_is_refused_not_truncated(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text((PROGRESS / "beta.csv").read_text(encoding="utf-8").replace("2022,生産活動量", "2022.7,生産活動量"),
                    encoding="utf-8")
    with pytest.raises(KokenErrors, match="'2022.7' is not a year"):
        read_submission(path)


def test_an_unknown_section_is_named_in_the_chosen_language(tmp_path):
    from koken.base.i18n import language

    path = tmp_path / "bad.csv"
    path.write_text((PROGRESS / "beta.csv").read_text(encoding="utf-8").replace("2021,エネルギー,lpg", "2021,燃料,lpg"),
                    encoding="utf-8")
    with language("ja"), pytest.raises(KokenErrors) as err:
        read_submission(path)
    assert "区分 '燃料' は不明です。形式/format, 会社/company" in str(err.value)
    assert "18行目, 列 '区分'" in str(err.value)
    with language("en"), pytest.raises(KokenErrors) as err:
        read_submission(path)
    assert "unknown section '燃料': expected one of 形式/format, 会社/company" in str(err.value)


def test_the_templates_explanations_follow_the_chosen_language(tmp_path):
    from koken.base.i18n import language

    def meanings() -> dict[str, str]:
        path = tmp_path / "t.xlsx"
        path.write_bytes(template_xlsx())
        return {row[0]: row[1] for row in load_workbook(path)["説明 instructions"].iter_rows(values_only=True) if row[0]}

    with language("ja"):
        ja = meanings()
    with language("en"):
        en = meanings()
    assert ja["エネルギー / energy"] == "その年度のエネルギー種別ごとの使用量（項目：エネルギー種別）"
    assert en["エネルギー / energy"] == "energy use of a carrier in the year (item: the carrier)"
    assert ja["区分 / section"] == en["区分 / section"] == "意味 / meaning"  # the sheet's headers stay bilingual
