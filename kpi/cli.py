"""The `python -m kpi` command line: the same engine as the app, without a browser.

Each command lives next to the code it drives and registers itself through an `add_command`
function listed in COMMANDS; a command's handler returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

#: Modules that each define `add_command(subparsers)`; the handler is set with `set_defaults(run=...)`.
COMMANDS: tuple[str, ...] = (
    "kpi.commands",
    "kpi.sources.ga4",
    "kpi.sources.importer",
    "kpi.events",
)

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the command line; the message says what is valid. Exits with code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kpi", description="Marketing KPI Studio engine")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS:
        importlib.import_module(module).add_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except UsageError as exc:
        parser.exit(EXIT_USAGE, f"error: {exc}\n")
