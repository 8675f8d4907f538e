"""
What the header of every public page shows: the section menu (sections with a
published article, by name) and the current breaking-news banner, read in one
query once per request. As two ORM queries they were a fifth of an article
page's CPU (docs/performance.md).
"""

from typing import NamedTuple

from django.db import connection

from .models import BreakingNews, Section, published_condition


class SiteHeader(NamedTuple):
    sections: list  # Section rows with id, name and slug: what the menu and the section blocks use
    banner: BreakingNews | None


def load_site_header():
    """The menu and the banner in one query; the visibility rules are the querysets' own (compiled, not repeated)."""
    live, live_params = published_condition()
    current = BreakingNews.objects.current().query
    showing, showing_params = current.get_compiler(connection=connection).compile(current.where)
    sql = f"""
        SELECT 'section' AS kind, articles_section.id, articles_section.name, articles_section.slug
        FROM articles_section WHERE EXISTS (
            SELECT 1 FROM articles_article WHERE articles_article.section_id = articles_section.id AND {live})
        UNION ALL
        SELECT * FROM (
            SELECT 'banner' AS kind, articles_breakingnews.id, articles_breakingnews.text, articles_breakingnews.url
            FROM articles_breakingnews WHERE {showing}
            ORDER BY articles_breakingnews.starts_at DESC, articles_breakingnews.id DESC LIMIT 1
        ) banner
        ORDER BY 1 DESC, 3"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [*live_params, *showing_params])
        rows = cursor.fetchall()
    sections = [Section(id=id, name=name, slug=slug) for kind, id, name, slug in rows if kind == "section"]
    banner = next((BreakingNews(id=id, text=text, url=url) for kind, id, text, url in rows if kind == "banner"), None)
    return SiteHeader(sections, banner)


def site_header(request):
    """The page's header data, read once per request (the views and the context processor share it)."""
    if not hasattr(request, "site_header"):
        request.site_header = load_site_header()
    return request.site_header
