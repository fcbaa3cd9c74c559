"""Header vocabularies: the words each export format writes in its header, per interface language.

One CSV per source (`meta_ads.csv`, `bitrix24.csv`, …) next to this module, read through
`importlib.resources` so that it is found wherever the package is installed. Each file has the
columns `field,en,sv,ru,de,nb,da,fi`; a row names a key (a canonical field such as `spend`, or a
format word such as `reporting_starts`) and, per language, the header text(s) the tool writes for it,
several alternatives separated by `|`. Lines starting with `#` are comments (they say where the
texts come from; README.md lists what is sourced). An empty cell means the text is not known.

`words(source, key)` gives every alternative for a key, English first and then the other languages
in column order, each compared the way headers are (`header_key`): lower case, single spaces,
currency suffix like `(SEK)` removed, `ё` read as `е`. `values(source, key)` gives cell values (a CRM's
stage names) in lower case, as the importer compares a row's stage.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

from kpi.sources.mapping import norm

LANGUAGES = ("en", "sv", "ru", "de", "nb", "da", "fi")


class VocabularyError(ValueError):
    """A vocabulary file that cannot be read; the message names the file and the line."""


def header_key(name: str) -> str:
    """A header (or a vocabulary word) as presets compare it: `norm` plus `ё` → `е` (Russian
    interfaces write either)."""
    return norm(name).replace("ё", "е")


@cache
def load(source: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """key → language → header texts as written in the file (not normalised), for one source."""
    name = f"{source}.csv"
    try:
        text = resources.files(__name__).joinpath(name).read_text("utf-8")
    except FileNotFoundError as exc:
        raise VocabularyError(f"no header vocabulary '{name}' in kpi/sources/vocabularies") from exc
    return parse(name, text)


def parse(name: str, text: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """The rows of one vocabulary file's text; a malformed file raises `VocabularyError` naming the line."""
    lines = [(i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise VocabularyError(f"{name}: no header line")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for n, (line_no, line) in enumerate(lines):
        row = next(csv.reader([line]))
        if n == 0:
            if tuple(c.strip() for c in row) != ("field", *LANGUAGES):
                raise VocabularyError(f"{name} line {line_no}: the header must be {','.join(('field', *LANGUAGES))}")
            continue
        if len(row) != len(LANGUAGES) + 1:
            raise VocabularyError(f"{name} line {line_no}: {len(row)} cells, expected {len(LANGUAGES) + 1}")
        key = row[0].strip()
        if not key or key in out:
            raise VocabularyError(f"{name} line {line_no}: field '{key}' is empty or repeated")
        out[key] = {lang: tuple(w.strip() for w in cell.split("|") if w.strip())
                    for lang, cell in zip(LANGUAGES, row[1:], strict=True)}
    return out


def words(source: str, *keys: str) -> tuple[str, ...]:
    """Every header text of `keys` in `source`, normalised, English first, without repeats."""
    vocab = load(source)
    found: list[str] = []
    for key in keys:
        if key not in vocab:
            raise VocabularyError(f"{source}.csv has no field '{key}'")
        found += [header_key(w) for lang in LANGUAGES for w in vocab[key][lang]]
    return tuple(dict.fromkeys(found))


def values(source: str, *keys: str) -> tuple[str, ...]:
    """Cell values (stage names a CRM writes in its rows) of `keys`, in lower case as the importer compares
    them, every language, English first, without repeats."""
    vocab = load(source)
    found: list[str] = []
    for key in keys:
        if key not in vocab:
            raise VocabularyError(f"{source}.csv has no field '{key}'")
        found += [" ".join(w.lower().split()) for lang in LANGUAGES for w in vocab[key][lang]]
    return tuple(dict.fromkeys(found))
