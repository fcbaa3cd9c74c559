"""The page registry and the page files agree, and a page file draws nothing at import: its flow is its
`render()`, called only through `render_page` (Streamlit may run a file in pages/ on its own, see
ui.navigation)."""

from __future__ import annotations

import ast

import pytest

from tests.conftest import REPO
from ui.navigation import PAGES

FILES = sorted(p for p in (REPO / "pages").glob("*.py") if p.name != "__init__.py")
BUILTINS = {"tuple", "list", "dict", "set", "frozenset"}  # constants built at import are fine


def test_every_page_file_is_registered_once_under_its_address() -> None:
    registered = [spec.file for spec in PAGES.values()]
    assert sorted(registered) == sorted(f"pages/{p.name}" for p in FILES)
    assert all(spec.file == f"pages/{path}.py" for path, spec in PAGES.items())  # the address is the file's name


def test_a_shared_view_may_open_the_analysis_pages_only() -> None:
    assert {path for path, spec in PAGES.items() if not spec.shared} == {"data", "workspaces"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_page_file_only_defines_and_ends_with_render_page(path: object) -> None:
    tree = ast.parse(path.read_text())  # type: ignore[attr-defined]
    *body, last = tree.body
    assert ast.unparse(last) == "if __name__ == '__main__':\n    render_page(render)"
    assert any(isinstance(node, ast.FunctionDef) and node.name == "render" for node in body)
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom | ast.FunctionDef | ast.ClassDef):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):  # the docstring
            continue
        assert isinstance(node, ast.Assign | ast.AnnAssign), f"line {node.lineno}: module-level flow"
        calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)]
        assert all(isinstance(c.func, ast.Name) and c.func.id in BUILTINS for c in calls), \
            f"line {node.lineno}: a call at import"
