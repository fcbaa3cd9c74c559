"""The `python -m kpi` command line: the same engine as the app, without a browser.

Each command lives next to the code it drives and registers itself through an `add_command`
function listed in COMMANDS; a command's handler returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: Each command: the module whose `add_command(subparsers)` defines it (the handler is set with
#: `set_defaults(run=...)`) and its line in `python -m kpi --help`. Only the chosen command's module is
#: imported, so the help and every command start without loading the others (GA4's client, statsmodels).
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("kpi.commands", "write the demo workspace as Parquet, one file per table"),
    "metrics": ("kpi.commands", "metrics by dimensions over a period"),
    "funnel": ("kpi.commands", "the stage funnel from visits to won deals: counts, conversion, drop-off, days "
                               "between stages and cost per stage"),
    "catalog": ("kpi.commands", "list every metric: id, label, unit, source tables, meaning"),
    "kpis": ("kpi.commands", "each KPI of the tree against its target: pace by today, forecast, status"),
    "review": ("kpi.commands", "stop / start / continue / do more / do less per initiative or channel"),
    "attribution": ("kpi.commands", "multi-touch attribution: credit per channel, campaign or initiative"),
    "ga4": ("kpi.sources.ga4", "pull GA4 traffic, key events and Google Ads cost into DIR/<table>.parquet"),
    "import": ("kpi.sources.importer", "read a CRM, ad-platform or analytics export into a canonical table"),
    "events": ("kpi.events", "event analytics over an events file (user_id, timestamp, event, ...)"),
    "report": ("ui.report_command", "the summary for leadership as PDF or HTML, in en/sv/ru; --mail-to sends it"),
}

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the command line; the message says what is valid. Exits with code 2."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with `command` defined in full (its module imported) and every other command listed."""
    parser = argparse.ArgumentParser(prog="python -m kpi", description="Marketing KPI Studio engine")
    sub = parser.add_subparsers(dest="command", required=True)
    chosen = COMMANDS[command][0] if command in COMMANDS else None
    if chosen is not None:
        importlib.import_module(chosen).add_command(sub)
    for name, (module, line) in COMMANDS.items():
        if module != chosen:
            sub.add_parser(name, help=line)
        else:  # defined by its module above: its own --help opens with the same line
            sub.choices[name].description = sub.choices[name].description or line
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(next((a for a in given if not a.startswith("-")), None))
    args = parser.parse_args(given)
    try:
        return int(args.run(args))
    except UsageError as exc:
        parser.exit(EXIT_USAGE, f"error: {exc}\n")
