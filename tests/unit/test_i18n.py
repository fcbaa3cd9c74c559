"""Every text exists in English, Swedish and Russian, with the same placeholders; every key the code
asks for exists; every metric has a name in each language."""

from __future__ import annotations

import re
import string

import pytest

from kpi.metrics import catalog
from tests.conftest import REPO
from ui.i18n import LANGUAGES, PLURAL_FORMS, TEXT, plural, t

KEY_USE = re.compile(r"""\bt\(\s*f?["']([a-z_.0-9{}]+)["']""")


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(TEXT))
def test_every_language_is_complete(key: str) -> None:
    entry = TEXT[key]
    assert set(entry) == set(LANGUAGES), f"{key} lacks {set(LANGUAGES) - set(entry)}"
    assert all(entry[lang].strip() for lang in LANGUAGES), f"{key} has an empty translation"
    assert len({frozenset(fields(entry[lang])) for lang in LANGUAGES}) == 1, f"{key}: placeholders differ"


def test_every_key_used_in_code_exists() -> None:
    used: set[str] = set()
    for path in [*REPO.glob("ui/**/*.py"), *REPO.glob("pages/*.py"), REPO / "app.py"]:
        used.update(KEY_USE.findall(path.read_text(encoding="utf-8")))
    fixed = {k for k in used if "{" not in k}
    assert not fixed - TEXT.keys(), f"missing texts: {sorted(fixed - TEXT.keys())}"
    for key in used - fixed:  # f-string keys such as preset.{p} must match at least one text
        pattern = re.compile(re.sub(r"\\\{[^}]*\\\}", "[a-z_0-9]+", re.escape(key)) + "$")
        assert any(pattern.match(k) for k in TEXT), key


def test_every_metric_has_a_name_in_every_language() -> None:
    missing = [m for m in catalog() if f"metric.{m}" not in TEXT]
    assert not missing, f"metrics without a translated name: {missing}"


def test_translation_is_applied() -> None:
    assert t("metric.won", "sv") == "Vunna affärer"
    assert t("metric.won", "ru") == "Выигранные сделки"
    assert t("notice.invalid_param", "en", name="period", value="x") == "Ignored an invalid link parameter: period=x."


def test_plural_texts_have_a_form_per_category_and_agree_with_the_count() -> None:
    counted: set[str] = set()
    for path in [*REPO.glob("ui/**/*.py"), *REPO.glob("pages/*.py")]:
        counted.update(re.findall(r"""\bplural\(\s*["']([a-z_.0-9]+)["']""", path.read_text(encoding="utf-8")))
    assert counted, "some texts depend on a count"
    for key in counted:
        assert all(TEXT[key][lang].count("|") + 1 == len(PLURAL_FORMS[lang]) for lang in LANGUAGES), key
    # the forms by the languages' rules: English and Swedish 1 / the rest; Russian 1, 21 / 2-4, 22 / 0, 5-20, 25
    key = "kpis.templates.added"
    assert plural(key, 1, "en", template="T").startswith("Added 1 KPI from")
    assert plural(key, 3, "en", template="T").startswith("Added 3 KPIs from")
    assert [plural(key, n, "ru", template="T").split()[0] for n in (1, 21, 2, 4, 22, 0, 5, 11, 12, 25, 111)] == [
        "Добавлен", "Добавлен", "Добавлены", "Добавлены", "Добавлены", "Добавлено", "Добавлено", "Добавлено",
        "Добавлено", "Добавлено", "Добавлено"]
    assert plural("kpis.templates.add", 1, "sv") == "Lägg till 1 nytt nyckeltal i trädet"
    assert plural("kpis.templates.add", 2, "sv") == "Lägg till 2 nya nyckeltal i trädet"


def test_a_value_ending_with_a_full_stop_is_not_followed_by_another() -> None:
    from datetime import date

    from ui.format import day
    from ui.i18n import t

    russian = day(date(2026, 12, 3), "ru")
    assert russian.endswith("г.")
    text = t("target.so_far", "ru", value="5", expected="7", day=russian)
    assert text == f"Пока 5 из 7 ожидаемых к {russian}" and ".." not in text
    assert t("target.so_far", "en", value="5", expected="7", day="3 Dec 2026").endswith("by 3 Dec 2026.")
