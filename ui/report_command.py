"""`python -m kpi report`: the summary for leadership from the command line, as PDF or HTML, optionally mailed.

The numbers come from `kpi.summary` over the workspace in `--data` (loaded as every command loads it), the
document from `ui.report`: the app's own words, formatting and chart specs, so the file is the one the
sidebar's "Download summary (PDF)" gives for the same view. The command lives here, beside the document it
drives, so that `kpi/` imports nothing of Streamlit or `ui/`; this module imports the document (and with it
Streamlit's modules, never run) only when the command runs.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from kpi.cli import UsageError
from kpi.commands import _date, _list, _load, _money_args, _period, _query
from kpi.mail import MailError, send, smtp_settings
from kpi.metrics import VIEWS
from kpi.period import COMPARES, compare_period
from kpi.review import REVIEW_DIMENSIONS
from kpi.summary import summarise

LANGUAGES = ("en", "sv", "ru")


def run_report(args: argparse.Namespace) -> int:
    """Write the report to --out (PDF or HTML by its suffix); with --mail-to, send it as a PDF. Exit code 1 when
    the mail cannot be sent (the file is written first)."""
    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".html"):
        raise UsageError(f"--out must end in .pdf or .html, got '{args.out}'")
    recipients = _list(args.mail_to or "")
    try:
        smtp = smtp_settings(args.secrets) if recipients else None
    except MailError as exc:
        raise UsageError(str(exc)) from None
    period = _period(args)
    if period is None or args.date_from is None or args.date_to is None:
        raise UsageError("a report needs its period: --from YYYY-MM-DD --to YYYY-MM-DD")
    query = _query(args, by=[], compare=compare_period(period, args.compare))
    engine_ws = _load(args)
    from streamlit import logger

    logger.set_log_level("error")  # the app's modules run here without a server: their caches live in memory
    from ui import report
    from ui.workspace import Workspace

    ws = Workspace(engine_ws, Path(args.data).resolve().name)
    html = report.document(ws, summarise(engine_ws, query, args.by),
                           report.About(report.folder_version(args.data), datetime.now(UTC)), args.lang)
    written = report.pdf(html) if out.suffix.lower() == ".pdf" else html.encode()
    out.write_bytes(written)
    print(f"wrote {out} ({len(written)} bytes)")
    if smtp is None:
        return 0
    name, pdf = out.with_suffix(".pdf").name, written if out.suffix.lower() == ".pdf" else report.pdf(html)
    try:
        send(smtp, recipients, report.mail_subject(period, args.lang), report.mail_body(ws, period, args.lang),
             name, pdf)
    except MailError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"sent {name} to {', '.join(recipients)}")
    return 0


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", epilog="Mail: the [smtp] block of .streamlit/secrets.toml (host, port, user, "
                                             "password, from; STARTTLS), see README; a weekly cron line is there too.")
    report.add_argument("--data", required=True, help="folder with <table>.parquet files (see `demo --out`)")
    report.add_argument("--from", dest="date_from", type=_date, required=True, help="first day, inclusive (YYYY-MM-DD)")
    report.add_argument("--to", dest="date_to", type=_date, required=True, help="last day, inclusive (YYYY-MM-DD)")
    report.add_argument("--compare", choices=COMPARES, default="previous",
                        help="the period the numbers are set beside (default: previous; none: no comparison)")
    report.add_argument("--by", choices=REVIEW_DIMENSIONS, default="initiative",
                        help="whose best and worst, verdicts and attribution (default: initiative)")
    report.add_argument("--lang", choices=LANGUAGES, default="en", help="the report's language")
    report.add_argument("--view", choices=VIEWS, default="cohort",
                        help="cohort: leads counted when created; flow: each stage when it happened")
    report.add_argument("--filter", action="append", metavar="DIM=V1,V2",
                        help="keep rows whose DIM is one of the values (repeatable)")
    report.add_argument("--out", required=True, help="FILE.pdf or FILE.html (the same document)")
    report.add_argument("--mail-to", metavar="A@X,B@Y", help="also send the report as a PDF to these addresses")
    report.add_argument("--secrets", metavar="FILE", default=None,
                        help="the secrets file with the [smtp] block (default: .streamlit/secrets.toml)")
    _money_args(report)
    report.set_defaults(run=run_report)
