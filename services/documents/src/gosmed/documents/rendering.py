"""HTML -> PDF (WeasyPrint) and XLSX (openpyxl) from a composed document.

These functions are CPU-bound and run in worker processes (`RenderPool`), never on the event
loop.
"""

import asyncio
import io
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import Any

import segno
from jinja2 import Environment, PackageLoader, Template, select_autoescape
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from gosmed.contracts.documents.requests import DocumentFormat
from gosmed.contracts.system import DependencyState, DependencyStatus
from gosmed.documents.charts import chart_data_uri
from gosmed.documents.domain import CellKind, DocumentContent, display

ISSUER = "Сведения об оказанных медицинских услугах"
ISSUER_GENITIVE = "сервиса «Сведения об оказанных медицинских услугах»"
DATE_NUMBER_FORMAT = "DD.MM.YYYY"
RUBLE_NUMBER_FORMAT = '#,##0.00 "₽"'
WIDE_TABLE_COLUMNS = 6  # more columns than this print in landscape
HEADER_FILL = PatternFill("solid", fgColor="E8EEF9")


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("gosmed.documents", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["display"] = display
    return env


@cache
def _stylesheet() -> Markup:
    """Our own CSS, inserted verbatim (escaping would break its quoted font names)."""
    return Markup(files("gosmed.documents").joinpath("templates/document.css").read_text("utf-8"))  # noqa: S704


def qr_data_uri(url: str) -> str:
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=0))


def template(name: str) -> Template:
    """A template of `gosmed.documents/templates`."""
    return _environment().get_template(name)


def render_html(content: DocumentContent) -> str:
    total_width = sum(column.width for column in content.columns) or 1
    return template("document.html").render(
        doc=content,
        orientation="landscape" if len(content.columns) > WIDE_TABLE_COLUMNS else "portrait",
        column_widths=[round(96 * c.width / total_width, 1) for c in content.columns],
        qr=qr_data_uri(content.verify_url),
        charts=[chart_data_uri(s) if s.charted else None for s in content.series],
        stylesheet=_stylesheet(),
        issuer=ISSUER,
        issuer_genitive=ISSUER_GENITIVE,
    )


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # heavy import, only in the worker processes

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def render_xlsx(content: DocumentContent) -> bytes:
    """One sheet of typed service rows (header, filters, frozen header) and one about the
    document itself (who, period, totals, verification link)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Услуги"
    sheet.append([column.title for column in content.columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for row in content.rows:
        _append(sheet, [_sheet_value(value) for value in row])
    for index, column in enumerate(content.columns, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = column.width
        number_format = {CellKind.DATE: DATE_NUMBER_FORMAT, CellKind.MONEY: RUBLE_NUMBER_FORMAT}
        if column.kind in number_format:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                if not isinstance(cell.value, str):
                    cell.number_format = number_format[column.kind]
    if content.columns:
        sheet.auto_filter.ref = sheet.dimensions
    sheet.freeze_panes = "A2"

    about = book.create_sheet("Документ")
    _append(about, [content.title])
    about["A1"].font = Font(bold=True, size=12)
    _append(about, ["Номер документа", content.number])
    for label, value in (*content.header, *content.details):
        _append(about, [label, value])
    if content.notice:
        _append(about, ["Внимание", content.notice])
    if content.totals:
        about.append([])
        _append(about, ["Итоги по видам оплаты", "Услуг", "Сумма"])
        for total in content.totals:
            _append(about, [total.title, total.count, total.amount])
            about.cell(about.max_row, 3).number_format = RUBLE_NUMBER_FORMAT
    about.append([])
    _append(about, ["Проверка подлинности", content.verify_url])
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 60
    book.properties.title = f"{content.title} № {content.number}"
    book.properties.creator = ISSUER
    output = io.BytesIO()
    book.save(output)
    return output.getvalue()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet would take for the start of a formula (OWASP «CSV injection»)."""


def _append(sheet: Worksheet, values: list[Any]) -> None:
    """Append a row whose texts stay texts: openpyxl makes a formula of any string starting
    with «=», and clinics write the texts. Every string cell is typed as a string (kept intact,
    not prefixed) and one that looks like a formula also gets Excel's quote prefix, so that
    editing the cell does not turn it into one either."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
            if cell.value.startswith(FORMULA_STARTS):
                cell.quotePrefix = True


def _sheet_value(value: date | str | Decimal | None) -> date | str | float | None:
    # openpyxl writes Decimal as a number too, but float keeps the cell type obvious to readers
    return float(value) if isinstance(value, Decimal) else value


def render(content: DocumentContent, document_format: DocumentFormat) -> bytes:
    """The worker-process entry point."""
    if document_format == DocumentFormat.XLSX:
        return render_xlsx(content)
    return html_to_pdf(render_html(content))


def _warm_up() -> None:
    """Import WeasyPrint and load the fonts once per worker, so a first document is fast.

    matplotlib is left to the first dynamics report (a document made in the background): a
    lab report someone waits for must not queue behind its import on a busy machine."""
    html_to_pdf("<p>ё</p>")


class RenderPool:
    """A pool of worker processes that render documents off the event loop."""

    def __init__(self, workers: int) -> None:
        self._workers = workers
        self._executor = self._new_executor()
        self._warming: asyncio.Task[None] | None = None
        self._warm = False

    def _new_executor(self) -> ProcessPoolExecutor:
        # spawn, not fork: the parent runs threads (event loop, drivers) a fork would copy mid-use
        return ProcessPoolExecutor(
            max_workers=self._workers, mp_context=multiprocessing.get_context("spawn")
        )

    async def warm_up(self) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._executor, _warm_up) for _ in range(self._workers))
        )
        self._warm = True

    async def start_warm_up(self) -> None:
        """Warm up without holding the service's start: it answers meanwhile, and a document
        asked for early waits in the pool's queue behind the warm-up."""
        self._warming = asyncio.create_task(self.warm_up())

    def status(self) -> DependencyStatus:
        """Down until the workers are warm: a document asked for before would wait behind
        the warm-up, longer than a caller waits for a lab report."""
        if not self._warm:
            return DependencyStatus(state=DependencyState.DOWN, detail="warming up")
        return DependencyStatus(state=DependencyState.UP)

    async def render(self, content: DocumentContent, document_format: DocumentFormat) -> bytes:
        return await self.run(render, content, document_format)

    async def run(self, function: Callable[..., bytes], *args: Any) -> bytes:
        """`function(*args)` in a worker process (a module-level function, picklable args)."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, function, *args)
        except BrokenProcessPool:
            # a worker died (e.g. out of memory): start fresh ones for the next documents
            self._executor = self._new_executor()
            raise

    async def close(self) -> None:
        if self._warming is not None:
            self._warming.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
