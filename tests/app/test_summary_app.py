"""The sidebar's "Download summary (PDF)": on every page and on a shared link, a PDF of the view on screen.

The button hands Streamlit a callable that makes the PDF on click; the test keeps the app run's media file
manager, runs the callable as Streamlit does on a click (`execute_deferred`), and reads the PDF's text with
pypdf. The numbers it must hold are the ones the page shows (its KPI cards), and by hand: the handmade workspace
(tests/unit/handmade.py) over 2025-01-01..2025-03-31 has 6 leads (Meta: 3) and spend 960 (Meta: 910).
"""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1 import app_test as app_test_module

from tests.app.conftest import metric
from tests.unit.handmade import tables
from ui.navigation import PAGES
from ui.workspace import store

Q1 = {"period": "custom", "from": "2025-01-01", "to": "2025-03-31"}
LABELS = {"en": "Download summary (PDF)", "sv": "Ladda ner sammanfattning (PDF)", "ru": "Скачать сводку (PDF)"}


@pytest.fixture
def managers(monkeypatch: pytest.MonkeyPatch) -> list[MediaFileManager]:
    """Every media file manager an app run makes (AppTest makes one a run and forgets it)."""
    made: list[MediaFileManager] = []

    class Kept(MediaFileManager):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            made.append(self)

    monkeypatch.setattr(app_test_module, "MediaFileManager", Kept)
    return made


def _workspace(name: str) -> str:
    created = store().create_workspace(name)
    for table, frame in tables().items():
        store().save(created.id, table, frame, source="handmade")
    return created.id


def plain(text: str) -> str:
    """Text with the no-break spaces Babel puts in numbers (sv, ru) and dates as plain spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def download(app: AppTest, managers: list[MediaFileManager], lang: str = "en") -> str:
    """Click the summary button as a browser does; the PDF's text (pypdf), no-break spaces as spaces."""
    buttons = [b for b in app.get("download_button") if b.proto.label == LABELS[lang]]
    assert len(buttons) == 1, [b.proto.label for b in app.get("download_button")]
    proto = buttons[0].proto
    assert proto.deferred_file_id
    manager = managers[-1]
    url = manager.execute_deferred(proto.deferred_file_id)
    found = manager.read_file(url.rsplit("/", 1)[-1].split(".")[0])
    assert found is not None and found.content.startswith(b"%PDF-")
    assert found.filename == "summary-2025-01-01-2025-03-31-" + lang + ".pdf"
    return plain("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(found.content)).pages))


def test_every_page_has_the_button_and_the_pdf_holds_the_view_s_numbers(app: AppTest,
                                                                         managers: list[MediaFileManager]) -> None:
    ws = _workspace("Summary AT")
    app.query_params.update({"ws": ws, **Q1, "channel": "Meta"})
    app.run()
    assert not app.exception, app.exception
    for path, spec in PAGES.items():  # the sidebar is drawn by app.py for every page
        app.switch_page(spec.file).run()
        assert not app.exception, (path, app.exception)
        assert [b.proto.label for b in app.get("download_button")].count(LABELS["en"]) == 1, path
    app.switch_page(PAGES["overview"].file).run()
    leads, spend = metric(app, "Leads"), metric(app, "Spend")
    assert (leads, spend) == ("3", "€910.00")  # by hand: Meta's three leads and its spend
    text = download(app, managers)
    assert "Marketing summary" in text and "Summary AT" in text
    assert "1 Jan 2025 – 31 Mar 2025" in text  # the period; compared with the 90 days before
    assert "Channel: Meta" in text  # the filter
    assert f"Leads {leads} " in text and f"Spend {spend} " in text  # the headline rows, formatted as the cards
    assert "leads v1" in text  # the data version shown


@pytest.mark.parametrize("lang", ["sv", "ru"])
def test_shared_link_gives_its_frozen_view_in_the_reader_s_language(app: AppTest, managers: list[MediaFileManager],
                                                                     lang: str) -> None:
    ws = _workspace(f"Summary link {lang}")
    token = store().create_view(ws, "funnel", {**Q1, "lang": lang, "channel": ["Meta"]}, slice={"channel": ["Meta"]})
    store().save(ws, "leads", tables()["leads"].head(1), source="a later upload the link does not show")
    app.query_params.update({"view": token})
    app.run()
    assert not app.exception, app.exception
    text = download(app, managers, lang)
    title = {"sv": "Marknadssammanfattning", "ru": "Сводка по маркетингу"}[lang]
    spend = {"sv": "910,00 €", "ru": "910,00 €"}[lang]
    assert title in text and "leads v1" in text and "leads v2" not in text  # the link's frozen version
    assert spend in text  # Meta's spend, as the cards write it in the language
    stage = {"sv": "Leads", "ru": "Лиды"}[lang]
    assert f"{stage} 3 " in text  # the funnel's and the headline's leads, in the language's words
