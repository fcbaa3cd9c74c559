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
# Some of Streamlit's markdown rewrites the text after the escapes are read: a bare URL or e-mail address
# becomes a link (GFM autolink literals), `:smile:` an emoji, `:material/…:` an icon. An invisible word
# joiner after every ':' and '@' and inside 'www.' breaks those patterns; the reader sees the same text.
JOINER = "\u2060"
_WWW = re.compile(r"(?i)(www)(?=\.)")


def md(value: object) -> str:
    """`value` as literal text inside markdown: every punctuation mark escaped, line breaks as spaces, and
    nothing left that Streamlit would turn into a link, an emoji or an icon."""
    text = _BREAKS.sub(" ", str(value))
    text = _WWW.sub(r"\1" + JOINER, text).replace(":", ":" + JOINER).replace("@", "@" + JOINER)
    return _PUNCTUATION.sub(r"\\\1", text)
