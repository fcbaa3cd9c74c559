"""The summary report: `python -m kpi report` and the document behind it, read back from the PDF with pypdf.

Every number the tests look for is the engine's (`kpi.engine`) written by the pages' own formatting
(`ui.format`, `ui.tables.cell_text`), or worked out by hand on the handmade workspace (tests/unit/handmade.py):
over 2025-01-01..2025-03-31 it has 1 200 visits, 6 leads, 5 MQL, 4 SQL, 3 opportunities and 1 won deal, and
spend 960, so the cost per lead is 160 and per won deal 960.
"""

from __future__ import annotations

import email
import email.policy
import io
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from pypdf import PdfReader

from kpi import engine
from kpi.data import write_dir
from kpi.mail import MailError, smtp_settings
from kpi.metrics import catalog
from kpi.period import Period, compare_period
from kpi.query import Query
from kpi.sources.demo import DEMO_SETTINGS, generate
from kpi.summary import HEADLINE, Summary, summarise
from kpi.workspace import Workspace
from tests.conftest import REPO, require
from tests.unit.handmade import tables
from ui import format as fmt
from ui import report
from ui.i18n import metric_label, t
from ui.tables import cell_text
from ui.workspace import Workspace as Shown

SCREENSHOTS = REPO / "artifacts" / "screenshots"
TODAY = date(2026, 12, 3)
PERIOD = Period(date(2026, 9, 5), TODAY)
HOSTILE = '<i>Social</i> & "co"'  # an initiative's name that is markup, if anything lets it be


def text_of(pdf: bytes) -> str:
    """The PDF's text (pypdf) with every run of white space as one space (a table cell's text wraps, and Babel
    writes no-break spaces in numbers and dates), and a line broken after a hyphen joined again."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(p.extract_text() for p in pages).replace("\u202f", " ").split()).replace("- ", "-")


def kpi(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kpi", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def handmade_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The handmade workspace with initiatives on its leads and spend: Meta's campaign FB-1 in one named like
    markup, Email's EM-1 in "Nurture"."""
    folder = tmp_path_factory.mktemp("report-handmade")
    initiative = pl.when(pl.col("campaign") == "FB-1").then(pl.lit(HOSTILE)).otherwise(pl.lit("Nurture"))
    write_dir({name: frame.with_columns(initiative.alias("initiative")) if name in ("leads", "spend") else frame
               for name, frame in tables().items()}, folder)
    return folder


@pytest.fixture(scope="module")
def demo() -> tuple[Shown, Summary]:
    """The demo workspace (every section: KPI tree, review, touches) summarised over the last 90 days."""
    ws = Workspace.prepared(generate(today=TODAY), DEMO_SETTINGS, "demo-report-test")
    query = Query.of(period=PERIOD, compare=compare_period(PERIOD, "previous"))
    return Shown(ws, "Demo"), summarise(ws, query, "initiative")


def test_command_writes_the_hand_numbers_and_escapes_names_from_data(handmade_dir: Path, tmp_path: Path) -> None:
    args = ("report", "--data", str(handmade_dir), "--from", "2025-01-01", "--to", "2025-03-31")
    run = kpi(*args, "--out", str(tmp_path / "q1.pdf"))
    assert run.returncode == 0, run.stderr
    text = text_of((tmp_path / "q1.pdf").read_bytes())
    assert "1 Jan 2025 – 31 Mar 2025" in text and "1 Oct 2024 – 31 Dec 2024" in text  # a quarter, the one before
    assert "Leads 6 " in text and "MQL 5 " in text and "Won deals 1 " in text  # headline, by hand
    assert "Spend €960.00 " in text and "Cost per lead (CPL) €160.00 " in text
    funnel = text.split("Funnel from visit to won deal")[1]
    assert "1,200 0 – – €0.80" in funnel  # visits, none compared, 960 / 1 200 a visit
    assert "Won deals 1 0 33.3% – €960.00" in funnel  # 1 of 3 opportunities; 960 per won deal
    assert "Target" not in text.split("Funnel")[0]  # no KPI tree: no target columns
    assert HOSTILE in text  # the name as it is, in the ranking and the verdicts

    html = kpi(*args, "--out", str(tmp_path / "q1.html"))
    assert html.returncode == 0, html.stderr
    document = (tmp_path / "q1.html").read_text(encoding="utf-8")
    assert "&lt;i&gt;Social&lt;/i&gt; &amp; &#34;co&#34;" in document and "<i>" not in document
    assert document.count("<img src=\"data:image/svg+xml;base64,") >= 3  # funnel, best, worst: vector charts


def test_command_refuses_what_it_cannot_write(handmade_dir: Path, tmp_path: Path) -> None:
    run = kpi("report", "--data", str(handmade_dir), "--from", "2025-01-01", "--to", "2025-03-31",
              "--out", str(tmp_path / "q1.docx"))
    assert run.returncode == 2 and "--out must end in .pdf or .html" in run.stderr
    assert not (tmp_path / "q1.docx").exists()
    run = kpi("report", "--data", str(handmade_dir), "--from", "2025-03-31", "--to", "2025-01-01",
              "--out", str(tmp_path / "q1.pdf"))
    assert run.returncode == 2 and "is before" in run.stderr


def _expected(ws: Shown, summary: Summary, lang: str) -> list[str]:
    """The engine's numbers as the pages write them: the Overview's cards, the Funnel page's table."""
    cat, currency = catalog(ws.settings), ws.settings.currency
    row = engine.metrics(ws.data, summary.query, HEADLINE).row(0, named=True)
    cards = [f"{metric_label(m, lang)} {fmt.metric_value(row[m], cat[m].unit, lang, currency, compact=True)}"
             for m in HEADLINE]
    funnel = engine.funnel(ws.data, summary.query)
    counts = [cell_text(c, "count", lang) for c in funnel["count"]]
    rates = [cell_text(r, "ratio", lang) for r in funnel["step_conversion"].drop_nulls()]
    costs = [cell_text(c, "currency", lang, currency) for c in funnel["cost_per_stage"].drop_nulls()]
    return [*cards, *counts, *rates, *costs]


@pytest.mark.parametrize("lang", ["en", "sv", "ru"])
def test_pdf_holds_the_engine_s_numbers_in_each_language(demo: tuple[Shown, Summary], lang: str) -> None:
    ws, summary = demo
    pdf = report.pdf(report.document(ws, summary, report.About("demo v1", datetime(2026, 12, 3, 9, 30, tzinfo=UTC)),
                                     lang))
    text = text_of(pdf)
    missing = [e for e in _expected(ws, summary, lang) if " ".join(e.replace("\u202f", " ").split()) not in text]
    assert not missing, missing
    assert t("report.title", lang) in text and "09:30 UTC" in text and "demo v1" in text
    assert {"en": "5 Sept 2026", "sv": "5 sep. 2026", "ru": "5 сент. 2026"}[lang] in text  # the period's first day
    assert summary.verdicts is not None and summary.tree and summary.attribution is not None
    verdicts = summary.verdicts.select("subject", "verdict").rows()
    assert all(subject in text for subject, _ in verdicts)
    assert all(t(f"verdict.{v}", lang) in text for _, v in verdicts)
    assert all(card.kpi.name in text for card, _ in summary.tree)
    assert t("model.markov", lang) in text  # the attribution comparison's models
    fonts = {str(f.get("/BaseFont")) for page in PdfReader(io.BytesIO(pdf)).pages
             for f in page["/Resources"]["/Font"].values()}  # type: ignore[index, union-attr]
    assert any("DejaVu" in f for f in fonts), fonts  # embedded: Cyrillic and å/ä/ö have their glyphs
    _page_images(pdf, f"report-{lang}")


def _page_images(pdf: bytes, name: str) -> None:
    """The PDF's pages as images next to the browser screenshots (artifacts/screenshots/NAME-N.png)."""
    require(shutil.which("pdftoppm") is not None, "pdftoppm not found (Debian poppler-utils)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-", str(SCREENSHOTS / name)], input=pdf, check=True, timeout=120)
    assert sorted(SCREENSHOTS.glob(f"{name}-*.png"))


def test_a_filtered_view_says_so_and_has_no_targets(demo: tuple[Shown, Summary]) -> None:
    ws, _ = demo
    query = Query.of(period=PERIOD, filters={"channel": ["Paid Search"], "segment": ["Enterprise"]})
    summary = summarise(ws.data, query, "initiative")
    assert summary.targets == {}  # a KPI's target is for all the data
    assert summary.cost_gaps == {"spend": ["segment"], "cpl": ["segment"], "cac": ["segment"], "roas": ["segment"]}
    assert summary.headline["spend"][0] is None  # spend has no segment: not available, not a guess
    html = report.document(ws, summary, report.About("demo v1", datetime.now(UTC)), "en")
    assert "Channel: Paid Search; Segment: Enterprise" in html and t("target.filtered", "en") in html
    assert "Spend, Cost per lead (CPL), Customer acquisition cost (CAC), ROAS: Not available: spend is not " \
           "recorded by Segment." in html
    assert t("attribution.sliced", "en") in html  # no cost per model on a slice, as on the Attribution page


# -- by mail: a local SMTP server on 127.0.0.1 that insists on STARTTLS and a login ----------------------------

PASSWORD = "s3cret-Pa55"


class Inbox:
    """aiosmtpd handler: keeps every message it is sent."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content or b"")))
        return "250 OK"


def _login(server: object, session: object, envelope: object, mechanism: str, auth: object) -> AuthResult:
    ok = isinstance(auth, LoginPassword) and (auth.login, auth.password) == (b"reports", PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # a refusal answered with 535, as a real server does


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    """A STARTTLS-only SMTP server with a throwaway certificate (its CA in ca.pem), login required."""
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    server = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                        authenticator=_login, auth_require_tls=True)
    server.start()
    try:
        yield inbox, port, ca_file
    finally:
        server.stop()


def _secrets(folder: Path, port: int, ca_file: Path, password: str = PASSWORD) -> Path:
    path = folder / "secrets.toml"
    path.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nuser = "reports"\npassword = "{password}"\n'
                    f'from = "KPI Studio <reports@example.com>"\nca_file = "{ca_file}"\n', encoding="utf-8")
    return path


def test_mail_sends_the_pdf_over_starttls_and_never_prints_the_password(
        handmade_dir: Path, tmp_path: Path, smtp: tuple[Inbox, int, Path]) -> None:
    inbox, port, ca_file = smtp
    run = kpi("report", "--data", str(handmade_dir), "--from", "2025-01-01", "--to", "2025-03-31", "--lang", "sv",
              "--out", str(tmp_path / "weekly.html"), "--mail-to", "ceo@example.com, cmo@example.com",
              "--secrets", str(_secrets(tmp_path, port, ca_file)))
    assert run.returncode == 0, run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    assert "sent weekly.pdf to ceo@example.com, cmo@example.com" in run.stdout
    [(recipients, raw)] = inbox.messages
    assert recipients == ["ceo@example.com", "cmo@example.com"]
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["Subject"] == "Marknadssammanfattning 1 jan. 2025 – 31 mars 2025"
    [attachment] = list(mail.iter_attachments())  # type: ignore[attr-defined]
    assert attachment.get_filename() == "weekly.pdf" and attachment.get_content_type() == "application/pdf"
    text = text_of(attachment.get_content())
    assert "Leads 6 " in text and "Kostnad per lead (CPL) 160,00 €" in text  # by hand, written in Swedish


def test_a_refused_login_sends_nothing_and_says_so_without_the_password(
        handmade_dir: Path, tmp_path: Path, smtp: tuple[Inbox, int, Path]) -> None:
    inbox, port, ca_file = smtp
    wrong = "not-the-Pa55word"
    run = kpi("report", "--data", str(handmade_dir), "--from", "2025-01-01", "--to", "2025-03-31",
              "--out", str(tmp_path / "weekly.pdf"), "--mail-to", "ceo@example.com",
              "--secrets", str(_secrets(tmp_path, port, ca_file, wrong)))
    assert run.returncode == 1
    assert f"127.0.0.1:{port} refused the user name and password" in run.stderr
    assert wrong not in run.stdout + run.stderr and not inbox.messages


def test_smtp_settings_name_the_file_and_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text('[smtp]\nhost = "mail.example.com"\nuser = "reports"\n', encoding="utf-8")
    with pytest.raises(MailError, match="needs from"):
        smtp_settings(path)
    path.write_text('[smtp]\nhost = "mail.example.com"\nfrom = "r@example.com"\nuser = "reports"\n', encoding="utf-8")
    with pytest.raises(MailError, match="both user and password"):
        smtp_settings(path)
    path.write_text('[smtp]\nhost = "mail.example.com"\nfrom = "r@example.com"\nuser = "u"\npassword = "pw-9"\n',
                    encoding="utf-8")
    settings = smtp_settings(path)
    assert (settings.port, settings.password) == (587, "pw-9") and "pw-9" not in repr(settings)
    with pytest.raises(MailError, match="no secrets file"):
        smtp_settings(tmp_path / "missing.toml")
