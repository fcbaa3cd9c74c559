"""`ui.safe.md`: a value from data placed in markdown renders as exactly its own text.

Checked with a CommonMark + GFM renderer (markdown-it-py, the same grammar family as Streamlit's
react-markdown with remark-gfm): hostile names produce no image, link, emphasis, HTML or directive, and
the visible text equals the value.
"""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from ui.safe import JOINER, md

HOSTILE = [
    "![px](http://127.0.0.1:9/track.png)",
    "[x](http://evil.example)",
    "**bold**",
    "__bold__ _it_ *it*",
    ":red[x]",
    ":material/warning: :smile:",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    '=HYPERLINK("http://evil.example","x")',
    "+cmd",
    "@SUM(A1)",
    "-1+1",
    "# heading",
    "> quote",
    "1. item",
    "- item",
    "`code`",
    "~~strike~~",
    "$x^2$",
    "http://evil.example and www.evil.example and mail@evil.example and mailto:x@evil.example",
    "<http://evil.example>",
    "a | b | c",
    "[ref]: http://evil.example",
    "line one\nline two\r\n# not a heading",
    "back\\slash\\*",
    "&lt;img&gt; &amp;",
]

_RENDER = MarkdownIt("gfm-like")  # CommonMark + tables, strikethrough and bare-URL autolinks (linkify)


def _render(text: str) -> str:
    return _RENDER.render(text)


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_value_renders_as_its_own_text(value: str) -> None:
    rendered = _render(f"Campaign **{md(value)}** is shown")
    inner = re.fullmatch(r"<p>Campaign <strong>(.*)</strong> is shown</p>\n", rendered, re.S)
    assert inner, rendered  # one paragraph: no heading, list, quote, table or code block broke out
    for tag in ("<img", "<a ", "<em>", "<strong>", "<code>", "<s>", "<del>", "<script", "<h1"):
        assert tag not in inner.group(1), (value, rendered)
    expected = " ".join(value.replace("\r\n", "\n").split("\n")) if "\n" in value else value
    text = html.unescape(inner.group(1))
    assert text.replace(JOINER, "") == expected.replace("\r", "")
    # Streamlit rewrites text nodes after the escapes are read (mdast-util-gfm-autolink-literal, remark-emoji,
    # its icon plugin): none of their patterns may be left in the text
    for pattern in (r"https?://", r"(?i)www\.", r"[-.+\w]+@[-\w]+(\.[-\w]+)+", r":[\w+/-]+:"):
        assert not re.search(pattern, text), (value, pattern, text)


def test_every_ascii_punctuation_is_escaped_and_letters_are_not() -> None:
    punctuation = "".join(chr(c) for c in range(33, 127) if not chr(c).isalnum())
    assert md(punctuation).replace(JOINER, "") == "".join("\\" + c for c in punctuation)
    assert md("Åsa Öberg Продажи 2026") == "Åsa Öberg Продажи 2026"
    assert md(None) == "None" and md(12.5) == "12\\.5"
    assert md("a@b") == "a\\@" + JOINER + "b" and md("WWW.x") == "WWW" + JOINER + "\\.x"
