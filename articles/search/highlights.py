"""
Highlights come back from the database between two private-use characters,
START and STOP; mark_up() escapes the text and only then turns them into
<mark>, so nothing in an article can inject markup.
"""

import re
from html import unescape as unescape_entities

from django.utils.html import escape
from django.utils.safestring import mark_safe

START, STOP = "\ue000", "\ue001"
EXCERPT_WORDS = 30


def mark_up(text, *, from_html=False):
    """
    Safe HTML for a highlighted snippet: the text is escaped, then the
    markers become <mark>. `from_html` for text cut from body HTML, whose
    entities are decoded first (and escaped again).
    """
    if not text:
        return ""
    if from_html:
        text = unescape_entities(text)
    marked = re.sub(f"{START}([^{START}{STOP}]*){STOP}", r"<mark>\1</mark>", escape(text))
    return mark_safe(marked.replace(START, "").replace(STOP, ""))


def highlight(article, row, *, from_html):
    """
    `article` with the highlights of `row` (search_headline, search_standfirst
    and search_excerpt) as safe HTML: highlighted_headline,
    highlighted_standfirst and highlighted_excerpt, a passage of the body only
    when the body matched (otherwise the standfirst says enough). `from_html`
    when the passage was cut from the body's HTML, not its indexed text.
    """
    excerpt = row.search_excerpt if START in (row.search_excerpt or "") else ""
    if excerpt and from_html:
        # ts_headline marks no cut; SQLite's snippet() puts "…" where it cut.
        excerpt = f"…{' '.join(excerpt.split())}…"
    article.highlighted_headline = mark_up(row.search_headline) or article.headline
    article.highlighted_standfirst = mark_up(row.search_standfirst)
    article.highlighted_excerpt = mark_up(excerpt, from_html=from_html)
    return article
