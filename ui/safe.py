"""Text that came from data, made safe to place inside Streamlit markdown.

Streamlit renders markdown in `st.markdown`, `st.caption`, `st.info`/`warning`/`error`, `st.metric`
labels and help texts, button labels and tab names. A campaign named `![px](http://…)` would become an
image fetched by every viewer, `[x](…)` a link, `:red[…]` coloured text. `md` turns any such value into
literal text; use it on every value from data (campaign, initiative, channel, owner, KPI names, file and
workspace names) that goes into markdown, or show the value with `st.text` / a dataframe cell instead.
"""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation; Streamlit's own directives (`:red[…]`,
# `:material/…:`, emoji shortcodes, `$…$` maths) are made of punctuation too, so they are escaped as well.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")
_BREAKS = re.compile(r"[\r\n\t\u2028\u2029]+")


def md(value: object) -> str:
    """`value` as literal text inside markdown: every punctuation mark escaped, line breaks as spaces."""
    return _PUNCTUATION.sub(r"\\\1", _BREAKS.sub(" ", str(value)))
