"""
Search on SQLite: an FTS5 table, `articles_search`, that triggers keep in sync
with the articles (save(), update(), bulk_create() and loaddata alike), the
body's HTML reduced to text by a Python function registered on every
connection. Ranked by mentions of the query in the headline and the
standfirst; highlights from FTS5's highlight() and snippet(). See
docs/search.md.
"""

from html.parser import HTMLParser

from django.conf import settings
from django.db import connections
from django.db.models import Exists, F, Func, OuterRef, Prefetch, Subquery, TextField, Value

from .highlights import EXCERPT_WORDS, START, STOP, highlight

TABLE = "articles_search"
SCORED_COLUMNS = ("headline", "standfirst")
WEIGHTS = (10, 4)  # the score of a mention in each
TEXT_FUNCTION = "newsroom_html_text"

_ROW = (
    f"INSERT INTO {TABLE}(rowid, headline, standfirst, body) "
    f"VALUES (new.id, new.headline, new.standfirst, {TEXT_FUNCTION}(new.body));"
)
TRIGGERS = {
    "articles_search_insert": f"AFTER INSERT ON articles_article BEGIN {_ROW} END",
    "articles_search_update": (
        "AFTER UPDATE OF id, headline, standfirst, body ON articles_article BEGIN "
        f"DELETE FROM {TABLE} WHERE rowid = old.id; {_ROW} END"
    ),
    "articles_search_delete": f"AFTER DELETE ON articles_article BEGIN DELETE FROM {TABLE} WHERE rowid = old.id; END",
}


# The body's text


_BLOCK_BREAKS_NOT = {"a", "b", "strong", "i", "em"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag not in _BLOCK_BREAKS_NOT:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        self.handle_starttag(tag, ())

    def handle_data(self, data):
        self.parts.append(data)


def html_to_text(value):
    """Body HTML as the words a reader sees, for the index (entities decoded)."""
    if not value:
        return ""
    extractor = _TextExtractor()
    extractor.feed(value)
    extractor.close()
    return " ".join("".join(extractor.parts).split())


# The index


def tokenizer():
    # FTS5's only stemmer is Porter's, for English.
    if settings.NEWSROOM_SEARCH_CONFIG.rsplit(".", 1)[-1] == "english":
        return "porter unicode61 remove_diacritics 2"
    return "unicode61 remove_diacritics 2"


def register_functions(sender, connection, **kwargs):
    """connection_created receiver: the triggers call html_to_text() on every SQLite connection."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(TEXT_FUNCTION, 1, html_to_text, deterministic=True)


def _names(cursor, kind):
    cursor.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
    return {name for (name,) in cursor.fetchall()}


def install_index(connection, *, rebuild=False):
    """
    Create the FTS5 table and its triggers where missing, and fill the table
    from the articles when anything was missing (or `rebuild`). Idempotent.

    Django's SQLite schema editor rebuilds a table to alter it, and dropping
    the old table drops its triggers; post_migrate calls this to put them back.
    """
    with connection.cursor() as cursor:
        if rebuild:
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        tables = _names(cursor, "table")
        triggers = _names(cursor, "trigger")
        missing = TABLE not in tables or not triggers.issuperset(TRIGGERS)
        if not missing:
            return False
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5("
            f"headline, standfirst, body, tokenize = '{tokenizer()}')"
        )
        for name, definition in TRIGGERS.items():
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {definition}")
        cursor.execute(f"DELETE FROM {TABLE}")
        cursor.execute(
            f"INSERT INTO {TABLE}(rowid, headline, standfirst, body) "
            f"SELECT id, headline, standfirst, {TEXT_FUNCTION}(body) FROM articles_article"
        )
        return True


def uninstall_index(connection):
    with connection.cursor() as cursor:
        for name in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def restore_index(sender, using, **kwargs):
    """post_migrate receiver: put back the triggers a table rebuild dropped (SQLite only)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        if TABLE not in _names(cursor, "table"):
            return  # migrated back before 0003_discovery: no index wanted
    install_index(connection)


# Searching


class _FTS5Function(Func):
    """An FTS5 auxiliary function; its first argument is the table's hidden column."""

    def __init__(self, function, *args, output_field):
        super().__init__(F("match"), *map(Value, args), function=function, output_field=output_field)


def _score():
    """
    SQL for a row's score: WEIGHTS per mention of the query in the headline
    and in the standfirst. highlight() puts one character before each
    mention, so the length it adds is their number. Not bm25(): its
    statistics are a pass over every match, growing with the archive.
    """
    terms = [
        f"{weight} * (length(highlight({TABLE}, {column}, %s, '')) - length({name}))"
        for column, (name, weight) in enumerate(zip(SCORED_COLUMNS, WEIGHTS, strict=True))
    ]
    return " + ".join(terms), [START] * len(terms)


# Only the candidates that mention a term in the headline or the standfirst
# have a score: a second MATCH, with a column filter, finds them within the
# candidates' range of ids without reading the other rows' text (the unary +
# keeps FTS5 from probing the index once per candidate instead).
_SCORED = """
    WITH candidates (id, published_at) AS ({candidates}),
    mentions (id, score) AS (
        SELECT rowid, {score} FROM articles_search
        WHERE articles_search MATCH %s
            AND rowid >= (SELECT min(id) FROM candidates) AND +rowid IN (SELECT id FROM candidates)
    ),
    scored (id, score, published_at) AS (
        SELECT id, coalesce(score, 0), published_at FROM candidates LEFT JOIN mentions USING (id)
    ),
"""


def scored(queryset, query, *, tagged, limit):
    """
    SQL and parameters for the CTE `scored (id, score, published_at)`: the
    newest `limit` matches (newest by id: the index's order) with their
    score. The query starts from the FTS5 table, newest first, and the
    articles' conditions (published, section, tag) become an EXISTS on each
    match: SQLite then reads the matches in the index's order and stops at
    the limit, rather than probing the index once for every published article
    (the plans it picks for a join or for `rowid IN (...)`).
    """
    from ..models import Article, ArticleSearchEntry

    candidates = (
        ArticleSearchEntry.objects.using(queryset.db)
        # The tag first: its index answers without reading the article's row.
        .filter(tagged)
        .filter(Exists(queryset.filter(pk=OuterRef("pk"))), match=query.as_fts5())
        .annotate(
            published_at=Subquery(Article.objects.filter(pk=OuterRef("pk")).order_by().values("published_at")),
        )
        .order_by("-pk")
        .values_list("pk", "published_at")[:limit]
    )
    sql, params = candidates.query.get_compiler(using=candidates.db).as_sql()
    score, score_params = _score()
    mentions = query.as_fts5_any(SCORED_COLUMNS)
    sql = _SCORED.replace("{candidates}", sql).replace("{score}", score)
    return sql, (*params, *score_params, mentions)


def highlighted(queryset, query, ids):
    """
    The articles `ids`, with their section, byline and highlights (in no
    particular order). Each row is a MATCH of one id (FTS5 takes `rowid = ?`
    with MATCH), so only these are read and highlighted.
    """
    from ..models import ArticleSearchEntry, Authorship

    def highlight_column(column):
        return _FTS5Function("highlight", column, START, STOP, output_field=TextField())

    entries = (
        ArticleSearchEntry.objects.using(queryset.db)
        .filter(match=query.as_fts5(), pk__in=ids)
        .annotate(
            search_headline=highlight_column(0),
            search_standfirst=highlight_column(1),
            search_excerpt=_FTS5Function("snippet", 2, START, STOP, "…", EXCERPT_WORDS, output_field=TextField()),
        )
        .select_related("article__section")
        .prefetch_related(Prefetch("article__authorships", queryset=Authorship.objects.select_related("author")))
        .defer("headline", "standfirst", "body", "article__body")
    )
    # The passage is cut from the indexed text, not the HTML.
    return [highlight(entry.article, entry, from_html=False) for entry in entries]
