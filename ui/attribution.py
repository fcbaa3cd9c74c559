"""The Attribution page's words and tables: model and credit names in the reader's language, and the
per-model comparison laid out for reading (`kpi.attribution` computes every number)."""

from __future__ import annotations

import polars as pl

from kpi.attribution import MODELS
from ui import workspace as data
from ui.i18n import metric_label, stage_label, t

STAGE_OF_CREDIT = {"leads": "lead"}  # a credit named after a count is its stage's conversion


def model_label(model: str, lang: str) -> str:
    return t(f"model.{model}", lang)


def model_labels(lang: str) -> dict[str, str]:
    """Every model's name in `lang`, in the models' order."""
    return {m: model_label(m, lang) for m in MODELS}


def credit_label(ws: data.Workspace, credit: str, lang: str) -> str:
    """What is credited, as the funnel names it: "Leads", "MQL", "Won deals"… or "Revenue"."""
    if credit == "revenue":
        return metric_label("revenue", lang)
    stage = STAGE_OF_CREDIT.get(credit, credit)
    return next((stage_label(s.id, s.label, lang) for s in ws.settings.stages if s.id == stage), credit)


def by_model(compared: pl.DataFrame, by: str, column: str, lang: str) -> pl.DataFrame:
    """One row per value of `by` with its spend, then `column` (cost per credit, or ROAS) under each model in a
    column named after the model in `lang`."""
    labels = model_labels(lang)
    wide = compared.pivot("model", index=by, values=column, aggregate_function="first")
    spend = compared.group_by(by).agg(pl.col("spend").max())
    present = [m for m in labels if m in wide.columns]
    return (spend.join(wide, on=by, how="left").select(by, "spend", *present)
            .rename({m: labels[m] for m in present}).sort("spend", by, descending=[True, False], nulls_last=True))
