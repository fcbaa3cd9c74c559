"""Engine commands: `demo`, `metrics`, `funnel`, `catalog`, `kpis` (and `kpis set-target`), `review` (and
`review decisions`) and `attribution`.

Output columns are the dimension names followed by the metric ids; ratios are plain fractions
(0.034, not 3.4 %) and money is unformatted: formatting is the app's job.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import tempfile
from dataclasses import fields, replace
from datetime import date
from pathlib import Path

import polars as pl

from kpi import engine
from kpi.cli import UsageError
from kpi.data import read_settings, scan_dir, write_dir, write_settings
from kpi.download import to_xlsx_bytes
from kpi.metrics import PERIOD_COL, VIEWS, MetricError, catalog, table_dimensions
from kpi.money import currency_gaps, gaps_reason
from kpi.period import COMPARES, GRAINS, Period, compare_period
from kpi.query import Query
from kpi.review import ReviewError, Rules, SavedReview, conclusions, review_inputs, review_key, saved_reviews
from kpi.segments import with_vs_overall
from kpi.tree import check, format_filters, walk
from kpi.tree import kpis as tree_kpis
from kpi.tree_edit import KPIS, canonical, is_rate, with_target
from kpi.workspace import Workspace

FORMATS = ("table", "csv", "json", "xlsx")
KPI_ACTIONS = ("show", "set-target")
REVIEW_ACTIONS = ("conclusions", "decisions")
FORMAT_HELP = ("table: for reading here; csv and json: raw values for machines (text that starts with = + - @ is "
               "written as is); xlsx: a workbook for people, such text neutralised with a leading ' so a spreadsheet "
               "never runs it (redirect it to a file: > out.xlsx)")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date; use YYYY-MM-DD, for example 2025-01-31") from None


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _filters(values: list[str] | None) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in values or []:
        dim, sep, vals = item.partition("=")
        if not sep or not dim.strip() or not vals.strip():
            raise UsageError(f"filter '{item}' must look like dimension=value1,value2 (for example channel=Email)")
        filters.setdefault(dim.strip(), []).extend(_list(vals))
    return filters


def _period(args: argparse.Namespace) -> Period | None:
    if args.date_from is None and args.date_to is None:
        return None
    start = args.date_from or date.min
    end = args.date_to or date.max
    if end < start:
        raise UsageError(f"--to {end} is before --from {start}")
    return Period(start, end)


def _rate(text: str) -> tuple[str, float]:
    code, sep, value = text.partition("=")
    try:
        rate = float(value)
    except ValueError:
        rate = float("nan")
    if not sep or not code.strip() or not math.isfinite(rate) or rate <= 0:
        raise argparse.ArgumentTypeError(
            f"rate '{text}' must look like CURRENCY=RATE with a positive rate, e.g. INR=0.011 "
            "(units of the reporting currency per 1 INR)")
    return code.strip().upper(), rate


def _money_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--currency", help="reporting currency (default: the one in settings.json, else EUR)")
    parser.add_argument("--rate", type=_rate, action="append", metavar="CUR=RATE",
                        help="rate of a currency to the reporting one, e.g. --rate INR=0.011 (repeatable); money "
                             "in a currency without a rate is left out of no sum: it is shown as not available")


#: The tables a one-shot question scans instead of reading them whole: the big ones. Spend and traffic are small
#: and read whole, so their sums add up in the same order as in the app.
SCANNED = ("leads",)


def _load(args: argparse.Namespace, scan: bool = False) -> Workspace:
    """The workspace in `--data`, in the currency and rates the command line gives; with `scan`, its tables
    (leads) as lazy scans (`Workspace.scans`) for a one-shot `metrics` or `funnel`, which reads only what it needs."""
    try:
        scans, settings = scan_dir(args.data, in_order=not scan)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    if not scans:
        raise UsageError(f"no canonical tables (leads.parquet, spend.parquet, traffic.parquet, ...) in '{args.data}'")
    settings = replace(settings, currency=(args.currency or settings.currency).strip().upper(),
                       rates=settings.rates | dict(args.rate or ()))
    read = {name: frame.collect() for name, frame in scans.items() if not (scan and name in SCANNED)}
    ws = Workspace(read, settings, f"dir:{args.data}",
                   scans={name: scans[name] for name in SCANNED if scan and name in scans})
    gaps = currency_gaps(ws.frames, settings)
    if gaps:  # stdout keeps its columns; the reason for the empty money cells goes to stderr
        print(f"note: {gaps_reason(gaps, settings)}", file=sys.stderr)
    return ws


def _query(args: argparse.Namespace, **more: object) -> Query:
    """The query the common options ask (`--by`, `--from`/`--to`, `--filter`, `--view`), with `more`."""
    by = getattr(args, "by", [])  # attribution's --by names one dimension
    return Query.of(by=by if isinstance(by, list) else [by], period=_period(args),
                    filters=_filters(args.filter), view=getattr(args, "view", "cohort")).but(**more)


def _check_output(fmt: str) -> None:
    """UsageError when `fmt` cannot be written where stdout goes (a workbook to a terminal)."""
    if fmt == "xlsx" and sys.stdout.isatty():
        raise UsageError("--format xlsx writes a workbook: redirect it to a file, e.g. > out.xlsx")


def _emit(frame: pl.DataFrame, fmt: str) -> None:
    if fmt == "xlsx":
        _check_output(fmt)
        sys.stdout.flush()
        sys.stdout.buffer.write(to_xlsx_bytes(frame))
    elif fmt == "csv":
        buffer = io.StringIO()
        frame.write_csv(buffer, float_precision=None, date_format="%Y-%m-%d")
        sys.stdout.write(buffer.getvalue())
    elif fmt == "json":
        rows = frame.with_columns(pl.col(pl.Date).dt.to_string("%Y-%m-%d")).to_dicts()
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    else:
        with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=250, fmt_str_lengths=60):
            print(frame)


def _common(parser: argparse.ArgumentParser, by: bool = True, data_required: bool = True) -> None:
    parser.add_argument("--data", required=data_required,
                        help="folder with <table>.parquet files (see `demo --out`)")
    if by:
        parser.add_argument("--by", type=_list, default=[], help="comma-separated dimensions, e.g. channel,segment")
    parser.add_argument("--from", dest="date_from", type=_date, help="first day, inclusive (YYYY-MM-DD)")
    parser.add_argument("--to", dest="date_to", type=_date, help="last day, inclusive (YYYY-MM-DD)")
    parser.add_argument("--view", choices=VIEWS, default="cohort",
                        help="cohort: leads counted when created; flow: each stage when it happened")
    parser.add_argument("--filter", action="append", metavar="DIM=V1,V2",
                        help="keep rows whose DIM is one of the values (repeatable)")
    parser.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    _money_args(parser)


def run_demo(args: argparse.Namespace) -> int:
    from kpi.sources.demo import DEMO_SETTINGS, generate

    tables = generate(today=args.today, seed=args.seed, scale=args.scale)
    for path in write_dir(tables, args.out):
        print(f"wrote {path} ({pl.scan_parquet(path).select(pl.len()).collect().item()} rows)")
    print(f"wrote {write_settings(DEMO_SETTINGS, args.out)}")
    return 0


def run_metrics(args: argparse.Namespace) -> int:
    ws = _load(args, scan=True)
    if args.vs_overall and not args.by:
        raise UsageError("--vs-overall compares each --by group with all of them together: give --by, "
                         "e.g. --by segment,region")
    query = _query(args, grain=args.grain)
    try:
        result = engine.metrics(ws, query, args.metrics)
        if args.vs_overall:
            overall = engine.metrics(ws, query.but(by=()), args.metrics)
            cat = catalog(ws.settings)
            result = with_vs_overall(result, overall, {m: cat[m].higher_is_better for m in dict.fromkeys(args.metrics)},
                                     on=[PERIOD_COL] if args.grain else [])
    except MetricError as exc:
        raise UsageError(str(exc)) from None
    _emit(result, args.format)
    return 0


def run_funnel(args: argparse.Namespace) -> int:
    ws = _load(args, scan=True)
    query = _query(args, allocation=args.allocate_cost)
    if args.compare != "none":
        if query.period is None or args.date_from is None or args.date_to is None:
            raise UsageError("--compare needs the period it compares: --from YYYY-MM-DD --to YYYY-MM-DD")
        query = query.but(compare=compare_period(query.period, args.compare))
    try:
        result = engine.funnel(ws, query)
    except MetricError as exc:
        raise UsageError(str(exc)) from None
    _emit(result, args.format)
    return 0


def run_catalog(args: argparse.Namespace) -> int:
    settings = read_settings(args.data) if args.data else None
    rows = [{"id": m.id, "label": m.label, "unit": m.unit, "kind": m.kind, "tables": ",".join(m.tables),
             "higher_is_better": m.higher_is_better, "description": m.description} for m in catalog(settings).values()]
    _emit(pl.DataFrame(rows), args.format)
    return 0


def run_kpis(args: argparse.Namespace) -> int:
    if args.action == "set-target":
        return run_set_target(args)
    from kpi.scorecard import scorecards

    ws = _load(args)
    tables, settings = ws.tables, ws.settings
    if "kpis" not in tables:
        raise UsageError(f"no kpis.parquet in '{args.data}': there is no KPI tree to follow")
    cat = catalog(settings)
    kpis = tables["kpis"]
    problems = [p for p in check(kpis, cat, table_dimensions(tables)) if p.severity == "error"]
    if problems:
        raise UsageError("the KPI tree has problems:\n" + "\n".join(str(p) for p in problems))
    today = args.today
    if today is None and "leads" in tables:
        today = tables["leads"].select(pl.col("created_at").max().dt.date()).item()
    if today is None:
        raise UsageError("without leads there is no last day of data; give --today YYYY-MM-DD")
    tree = tree_kpis(kpis, cat)
    depth = {k.id: d for k, d in walk(tree)}
    rows = [{"kpi_id": c.kpi.id, "name": c.kpi.name, "depth": depth.get(c.kpi.id), "metric": c.kpi.metric,
             "filters": format_filters(c.kpi.filters), "period": c.period_label, "target": c.target,
             "value": c.value, "expected": c.expected, "pace_basis": c.pace_basis, "forecast": c.forecast,
             "forecast_low": c.low, "forecast_high": c.high, "status": c.status, "reason": c.reason}
            for c in scorecards(tables, tree, settings, today)]
    _emit(pl.DataFrame(rows, infer_schema_length=None), args.format)
    return 0


def _write_atomically(frame: pl.DataFrame, path: Path) -> None:
    """Write `frame` as the Parquet file `path` so that a reader never sees half a file."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".parquet")
    os.close(handle)
    try:
        frame.write_parquet(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run_set_target(args: argparse.Namespace) -> int:
    """`kpis set-target`: set (or with --remove, remove) one KPI's target for one period in the folder's
    kpis.parquet, as the KPI page's target form does; the tree is checked first and nothing is written
    when it has errors. Prints the change as kpi_id, name, period, before, after (null: no target)."""
    path = Path(args.data) / f"{KPIS}.parquet"
    if not path.parent.is_dir():
        raise UsageError(f"data folder '{args.data}' does not exist")
    if not path.exists():
        raise UsageError(f"no kpis.parquet in '{args.data}': there is no KPI tree to set a target in")
    if not args.kpi or not (args.period or "").strip():
        raise UsageError("set-target needs the KPI and the period: --kpi KPI_ID --period 2026-Q4 (or 2026-11, 2026)")
    if (args.target is None) != bool(args.remove):
        raise UsageError("give the new target with --target VALUE, or --remove to remove the period's target")
    if args.target is not None and not math.isfinite(args.target):
        raise UsageError(f"--target must be a number, got {args.target}")
    frame = canonical(pl.read_parquet(path))
    names = {k: n for k, n in zip(frame["kpi_id"], frame["name"], strict=True) if k}
    if args.kpi not in names:
        raise UsageError(f"no KPI '{args.kpi}' in the tree; its kpi_ids are: {', '.join(names) or 'none'}")
    period = args.period.strip()
    before = frame.filter((pl.col("kpi_id") == args.kpi) & (pl.col("period") == period))["target"]
    changed = with_target(frame, args.kpi, period, args.target)
    cat = catalog(read_settings(args.data))
    problems = [p for p in check(changed, cat) if p.severity == "error"]
    if problems:
        raise UsageError("the KPI tree would have problems; nothing was written:\n"
                         + "\n".join(str(p) for p in problems))
    metric = changed.filter(pl.col("kpi_id") == args.kpi)["metric"][0]
    if args.target is not None and is_rate(metric, cat) and abs(args.target) > 1:
        print(f"note: {args.kpi} measures the rate {metric}, kept as a plain fraction: {args.target:g} is "
              f"{args.target * 100:g} %; for {args.target:g} % give --target {args.target / 100:g}", file=sys.stderr)
    _check_output(args.format)  # before writing: a refused output must mean nothing was changed
    _write_atomically(changed, path)
    _emit(pl.DataFrame([{"kpi_id": args.kpi, "name": names[args.kpi], "period": period,
                         "before": before[0] if len(before) else None, "after": args.target}],
                       schema={"kpi_id": pl.String, "name": pl.String, "period": pl.String, "before": pl.Float64,
                               "after": pl.Float64}), args.format)
    return 0


def run_review(args: argparse.Namespace) -> int:
    if args.action == "decisions":
        return run_decisions(args)
    if args.data is None:  # required for conclusions only: `review decisions` reads the workspace store
        args.parser.error("the following arguments are required: --data")
    ws = _load(args)
    query = _query(args)
    if query.period is None or args.date_from is None or args.date_to is None:
        raise UsageError("a review needs its period: --from YYYY-MM-DD --to YYYY-MM-DD")
    overrides = {}
    for item in args.rule or []:
        name, _, value = item.partition("=")
        if name not in {f.name for f in fields(Rules)}:
            raise UsageError(f"unknown rule threshold '{name}'; use one of "
                             f"{', '.join(f.name for f in fields(Rules))}")
        try:
            overrides[name] = float(value)
        except ValueError:
            raise UsageError(f"rule threshold {name} must be a number, got '{value}'") from None
    try:
        rules = Rules(**overrides)
        result = conclusions(review_inputs(ws, query, args.dimension, rules=rules), args.dimension, rules,
                             settings=ws.settings)
    except (ReviewError, MetricError) as exc:
        raise UsageError(str(exc)) from None
    _emit(result, args.format)
    return 0


DECISION_SCHEMA: dict[str, pl.DataType] = {
    "review": pl.String(), "subject": pl.String(), "verdict": pl.String(), "decision": pl.String(),
    "owner": pl.String(), "date": pl.Date(), "note": pl.String(), "budget": pl.Float64()}


def _decisions(saved: SavedReview | None) -> pl.DataFrame:
    """A saved review's notes, one row per subject, with the budget it was judged with (null: none given)."""
    rows = [] if saved is None else [
        {"review": saved.key, "subject": n.subject, "verdict": n.verdict, "decision": n.decision, "owner": n.owner,
         "date": n.date, "note": n.note, "budget": saved.budgets.get(n.subject)} for n in saved.notes]
    return pl.DataFrame(rows, schema=DECISION_SCHEMA)


def run_decisions(args: argparse.Namespace) -> int:
    """`review decisions`: the decisions the team saved in the app for the review of --from..--to by --by (the
    calendar term the period ends in, as the Review page files them), or with --previous the review before it
    that this one starts from. Exit code 1 when that review's saved document cannot be read."""
    from kpi.store import CATALOG_FILE, Store, default_data_dir

    period = _period(args)
    if period is None or args.date_from is None or args.date_to is None:
        raise UsageError("a review needs its period: --from YYYY-MM-DD --to YYYY-MM-DD")
    if not args.workspace:
        raise UsageError("review decisions reads a workspace's saved reviews: give --workspace NAME_OR_ID")
    folder = Path(args.store) if args.store else default_data_dir()
    if not (folder / CATALOG_FILE).exists():
        raise UsageError(f"no workspace store in '{folder}' (no {CATALOG_FILE}); give the app's data folder with "
                         "--store DIR or KPI_DATA_DIR")
    store = Store(folder)
    known = store.workspaces()
    chosen = next((w for w in known if w.id == args.workspace), None) or next(
        (w for w in known if w.name.casefold() == args.workspace.strip().casefold()), None)
    if chosen is None:
        raise UsageError(f"no workspace '{args.workspace}' in '{folder}'; its workspaces: "
                         + (", ".join(f"{w.name} ({w.id})" for w in known) or "none"))
    key = review_key(args.dimension, period, args.term)
    found = saved_reviews(store, chosen.id, key)
    shown, problem = (found.previous, found.previous_problem) if args.previous else (found.saved, found.saved_problem)
    other = found.saved_problem if args.previous else found.previous_problem
    if other:
        print(f"note: {other}", file=sys.stderr)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    if shown is None:
        print(f"note: no {'review before ' if args.previous else 'decisions saved for '}{key} in workspace "
              f"'{chosen.name}'", file=sys.stderr)
    _emit(_decisions(shown), args.format)
    return 0


def run_attribution(args: argparse.Namespace) -> int:
    from kpi.attribution import AttributionError

    ws = _load(args)
    try:
        result = engine.attribution(ws, _query(args), args.credit, (args.model,)).drop("model")
    except AttributionError as exc:
        raise UsageError(str(exc)) from None
    _emit(result, args.format)
    return 0


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = sub.add_parser("demo")
    demo.add_argument("--out", required=True, help="folder to write leads.parquet, spend.parquet, ...")
    demo.add_argument("--today", type=_date, default=None, help="last day of the demo data (default: today)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--scale", type=float, default=1.0, help="multiplies the number of leads")
    demo.set_defaults(run=run_demo)

    metrics = sub.add_parser("metrics", epilog="Metric ids: see `python -m kpi catalog`.")
    metrics.add_argument("--metrics", type=_list, required=True, help="comma-separated metric ids, e.g. leads,mql,cpl")
    metrics.add_argument("--grain", choices=GRAINS, default=None, help="add a period column bucketed by this grain")
    _common(metrics)
    metrics.add_argument("--vs-overall", action="store_true",
                         help="add <metric>_vs_overall: how much better (+) or worse (-) each --by group is than all "
                              "groups together (per period with --grain), as a fraction of overall; for a cost, "
                              "lower is better (the Segments heatmap's colour)")
    metrics.set_defaults(run=run_metrics)

    funnel = sub.add_parser("funnel")
    _common(funnel)
    funnel.add_argument("--compare", choices=COMPARES, default="none",
                        help="add <column>_prev columns for the previous period or the same dates last year")
    funnel.add_argument("--allocate-cost", action="store_true",
                        help="split spend by lead share when a --by or --filter dimension is not in spend")
    funnel.set_defaults(run=run_funnel)

    cat = sub.add_parser("catalog")
    cat.add_argument("--data", default=None, help="folder whose settings.json defines the funnel stages")
    cat.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    cat.set_defaults(run=run_catalog)

    kpis = sub.add_parser("kpis", epilog="KPIs are followed in the flow view; ratios are plain fractions. "
                                         "Set a target: kpis set-target --data DIR --kpi KPI_ID --period 2026-Q4 "
                                         "--target 0.45 (a rate as a fraction), or --remove.")
    kpis.add_argument("action", nargs="?", choices=KPI_ACTIONS, default="show",
                      help="show (default): each KPI against its target; set-target: set or remove one KPI's "
                           "target for a period in the folder's kpis.parquet")
    kpis.add_argument("--data", required=True, help="folder with kpis.parquet and the tables it measures")
    kpis.add_argument("--today", type=_date, default=None, help="the day to judge on (default: the last lead's day)")
    kpis.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    _money_args(kpis)
    kpis.add_argument("--kpi", metavar="KPI_ID", help="set-target: the KPI (its kpi_id, as `kpis` lists them)")
    kpis.add_argument("--period", help="set-target: the target's period: 2026-Q4, 2026-11 or 2026")
    kpis.add_argument("--target", type=float, help="set-target: the target as the data keeps it: a rate as a plain "
                                                   "fraction (0.45 for 45 %%), money in the reporting currency")
    kpis.add_argument("--remove", action="store_true", help="set-target: remove the KPI's target for --period")
    kpis.set_defaults(run=run_kpis)

    rev = sub.add_parser("review", epilog="Thresholds: --rule less_cpl_multiple=2.5, --rule target_cac=4000 "
                                          "(repeatable); see kpi/review.py. The team's saved decisions: review "
                                          "decisions --workspace NAME --from ... --to ... [--previous].")
    rev.add_argument("action", nargs="?", choices=REVIEW_ACTIONS, default="conclusions",
                     help="conclusions (default): stop / start / continue / do more / do less per subject, from "
                          "--data; decisions: what the team saved for this review in the app's workspace store")
    _common(rev, by=False, data_required=False)
    rev.add_argument("--by", dest="dimension", default="initiative",
                     help="whose conclusions: initiative (default) or channel")
    rev.add_argument("--rule", action="append", metavar="NAME=VALUE", help="change one rule threshold")
    rev.add_argument("--workspace", metavar="NAME_OR_ID", help="decisions: the workspace, by name or id")
    rev.add_argument("--store", metavar="DIR",
                     help="decisions: the app's data folder (default: KPI_DATA_DIR, else data/ in the project)")
    rev.add_argument("--term", choices=("month", "quarter", "year"),
                     help="decisions: the calendar term the review is filed under (default: by the period's "
                          "length: up to 31 days a month, up to 92 a quarter, else a year)")
    rev.add_argument("--previous", action="store_true",
                     help="decisions: the review before this one (what the Review page shows as the last review)")
    rev.set_defaults(run=run_review, parser=rev)

    from kpi.attribution import DIMENSIONS, MODELS

    attr = sub.add_parser("attribution", epilog="Models and their rules: see kpi/attribution.py. Credit: leads, won, "
                                                "revenue or a stage id (mql, sql, opportunity, ...). CSV/JSON are raw "
                                                "numbers for machines.")
    attr.add_argument("--data", required=True, help="folder with leads.parquet and touches.parquet (see `demo --out`)")
    attr.add_argument("--model", choices=MODELS, default="linear")
    attr.add_argument("--credit", default="leads", help="leads, won, revenue or a stage id (default: leads)")
    attr.add_argument("--by", choices=DIMENSIONS, default="channel")
    attr.add_argument("--from", dest="date_from", type=_date, help="first day, inclusive (YYYY-MM-DD)")
    attr.add_argument("--to", dest="date_to", type=_date, help="last day, inclusive (YYYY-MM-DD)")
    attr.add_argument("--filter", action="append", metavar="DIM=V1,V2",
                      help="only the leads whose DIM (segment, region, channel, ...) is one of the values (repeatable)")
    attr.add_argument("--format", choices=FORMATS, default="table", help=FORMAT_HELP)
    _money_args(attr)
    attr.set_defaults(run=run_attribution)
