"""
Full-text search over articles, on PostgreSQL and on SQLite.

A reader's query is parsed once, here, into web-search syntax: words, "quoted
phrases", -exclusions and `or`. Terms in a row must all match, `or` separates
alternatives (it binds loosest, as in PostgreSQL's websearch_to_tsquery), and a
term made of punctuation only is dropped. The parsed query is then written out
for the database, so both engines answer the same question and no input can
raise a syntax error:

- PostgreSQL: django.contrib.postgres with `websearch_to_tsquery`, matched
  against a weighted tsvector (headline A, standfirst B, body C) stored in a
  `search_vector` column that a trigger keeps up to date, with a GIN index;
  ranked with ts_rank (length-normalized), snippets from ts_headline. The
  configuration (language) is settings.NEWSROOM_SEARCH_CONFIG.
- SQLite: an FTS5 table, `articles_search`, kept in sync with the articles by
  triggers (they cover save(), update(), bulk_create() and loaddata alike), with
  the body's HTML reduced to text by a Python function registered on every
  connection; ranked with bm25() weighted 10/4/1, snippets from highlight() and
  snippet().

Highlights come back from the database between two private-use characters;
mark_up() escapes the text and only then turns them into <mark>.
"""

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Exists, Expression, F, FloatField, Func, OuterRef, Prefetch, TextField, Value
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import mark_safe

MAX_QUERY_LENGTH = 200
# Counting stops here: "500+ results" is enough, and deep pages stay cheap.
MAX_RESULTS = 500

START, STOP = "\ue000", "\ue001"
EXCERPT_WORDS = 30

SQLITE_TABLE = "articles_search"
SQLITE_WEIGHTS = (10.0, 4.0, 1.0)  # bm25() column weights: headline, standfirst, body
SQLITE_TEXT_FUNCTION = "newsroom_html_text"
POSTGRES_INDEX = "article_search_idx"


# The reader's query


@dataclass(frozen=True)
class Term:
    text: str
    negated: bool = False

    def as_websearch(self):
        return f'{"-" if self.negated else ""}"{self.text}"'

    def as_fts5(self):
        return '"{}"'.format(self.text.replace('"', '""'))


@dataclass(frozen=True)
class ParsedQuery:
    """Alternatives (`or`) of groups of terms that must all match, minus the negated ones."""

    groups: tuple[tuple[Term, ...], ...] = ()

    def __bool__(self):
        return bool(self.groups)

    def as_websearch(self):
        return " or ".join(" ".join(term.as_websearch() for term in group) for group in self.groups)

    def as_fts5(self):
        alternatives = []
        for group in self.groups:
            expression = " AND ".join(term.as_fts5() for term in group if not term.negated)
            for term in group:
                if term.negated:
                    expression = f"({expression}) NOT {term.as_fts5()}"
            alternatives.append(f"({expression})")
        return " OR ".join(alternatives)


_TOKEN = re.compile(r'(?P<minus>-*)"(?P<phrase>[^"]*)(?:"|$)|(?P<word>[^\s"]+)')


def parse_query(text):
    """
    Parse a reader's query. Whatever the input, the result is well formed;
    it is empty when nothing is left to look for (a group made of exclusions
    only cannot be answered by an index, so it is dropped).
    """
    groups, group = [], []
    for token in _TOKEN.finditer(text):
        if token["word"] is not None:
            word = token["word"]
            if word.lower() == "or":
                groups.append(group)
                group = []
                continue
            negated = word.startswith("-")
            words = word.lstrip("-")
        else:
            negated = bool(token["minus"])
            words = " ".join(token["phrase"].split())
        if any(character.isalnum() for character in words):
            group.append(Term(words, negated))
    groups.append(group)
    return ParsedQuery(tuple(tuple(group) for group in groups if any(not term.negated for term in group)))


def clean_query(text):
    """The query as searched: printable, whitespace collapsed, at most MAX_QUERY_LENGTH characters."""
    text = "".join(character for character in text if character.isprintable() or character.isspace())
    text = " ".join(text.split())
    truncated = len(text) > MAX_QUERY_LENGTH
    return text[:MAX_QUERY_LENGTH].rstrip(), truncated


# Results


def search(queryset, query):
    """
    The articles of `queryset` matching `query` (a ParsedQuery), best first,
    as a queryset ready to paginate: turn a page of it into articles with
    results(). On PostgreSQL it is a queryset of articles; on SQLite one of
    index entries, so that the FTS5 table drives the query.
    """
    vendor = connections[queryset.db].vendor
    if vendor == "postgresql":
        return _search_postgresql(queryset, query)
    if vendor == "sqlite":
        return _search_sqlite(queryset, query)
    raise NotImplementedError(f"Search supports PostgreSQL and SQLite, not {vendor}.")


def published_tags():
    """The tag filter's choices: tags on at least one published article (a draft's tag stays unseen)."""
    from .models import Article, Tag

    return Tag.objects.filter(Exists(Article.objects.published().filter(tags=OuterRef("pk")))).order_by("name")


def results(rows):
    """
    The articles of a page of search() rows, each with its section, byline and
    safe HTML highlights: `highlighted_headline`, `highlighted_standfirst` and
    `highlighted_excerpt` (a passage of the body, only when the body matched;
    otherwise the standfirst says enough).
    """
    from .models import ArticleSearchEntry

    articles = []
    for row in rows:
        article = row.article if isinstance(row, ArticleSearchEntry) else row
        # PostgreSQL cuts the passage from the body's HTML; SQLite from its indexed text.
        from_html = not isinstance(row, ArticleSearchEntry)
        excerpt = row.search_excerpt if START in (row.search_excerpt or "") else ""
        if excerpt and from_html:
            # ts_headline marks no cut; SQLite's snippet() puts "…" where it cut.
            excerpt = f"…{' '.join(excerpt.split())}…"
        article.highlighted_headline = mark_up(row.search_headline) or article.headline
        article.highlighted_standfirst = mark_up(row.search_standfirst)
        article.highlighted_excerpt = mark_up(excerpt, from_html=from_html)
        articles.append(article)
    return articles


def mark_up(text, *, from_html=False):
    """
    Safe HTML for a highlighted snippet: the text is escaped, then the
    markers become <mark>. `from_html` for text cut from body HTML, whose
    entities are decoded first (and escaped again).
    """
    if not text:
        return ""
    if from_html:
        text = html.unescape(text)
    marked = re.sub(f"{START}([^{START}{STOP}]*){STOP}", r"<mark>\1</mark>", escape(text))
    return mark_safe(marked.replace(START, "").replace(STOP, ""))


# PostgreSQL


POSTGRES_COLUMN = "search_vector"
POSTGRES_FUNCTION = "articles_article_search_vector"
# The weighted document, computed by a trigger on every write. The parser
# skips HTML tags and entities in the body by itself.
_POSTGRES_DOCUMENT = """
    setweight(to_tsvector({config}, coalesce({row}.headline, '')), 'A')
    || setweight(to_tsvector({config}, coalesce({row}.standfirst, '')), 'B')
    || setweight(to_tsvector({config}, coalesce({row}.body, '')), 'C')
"""


class _StoredSearchVector(Expression):
    """articles_article.search_vector: a column the ORM does not know, kept by a trigger."""

    def __init__(self):
        from django.contrib.postgres.search import SearchVectorField

        super().__init__(output_field=SearchVectorField())

    def as_sql(self, compiler, connection):
        alias = compiler.query.get_initial_alias()
        return f"{connection.ops.quote_name(alias)}.{connection.ops.quote_name(POSTGRES_COLUMN)}", []


def install_postgresql_index(schema_editor, *, rebuild=False):
    """
    The stored, weighted tsvector column, the trigger that keeps it (on insert,
    and on updates of headline, standfirst or body: save(), update(),
    bulk_create() and loaddata alike), its GIN index, and the vectors of the
    rows already there. The configuration is settings.NEWSROOM_SEARCH_CONFIG
    at the time; `rebuild` recomputes every vector with the current one.
    """
    config = schema_editor.quote_value(settings.NEWSROOM_SEARCH_CONFIG)
    document = _POSTGRES_DOCUMENT.format(config="TG_ARGV[0]::regconfig", row="NEW")
    execute = schema_editor.execute
    introspection = schema_editor.connection.introspection
    with schema_editor.connection.cursor() as cursor:
        columns = {column.name for column in introspection.get_table_description(cursor, "articles_article")}
        indexes = introspection.get_constraints(cursor, "articles_article")
    # Checked first: ALTER TABLE and CREATE INDEX refuse to run, even as no-ops,
    # in a transaction that has deferred constraint checks pending on the table.
    if POSTGRES_COLUMN not in columns:
        execute(f"ALTER TABLE articles_article ADD COLUMN {POSTGRES_COLUMN} tsvector")
    execute(
        f"CREATE OR REPLACE FUNCTION {POSTGRES_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN NEW.{POSTGRES_COLUMN} := {document}; RETURN NEW; END $$"
    )
    execute(
        f"CREATE OR REPLACE TRIGGER {POSTGRES_FUNCTION} BEFORE INSERT OR UPDATE OF headline, standfirst, body "
        f"ON articles_article FOR EACH ROW EXECUTE FUNCTION {POSTGRES_FUNCTION}({config})"
    )
    where = "" if rebuild else f" WHERE {POSTGRES_COLUMN} IS NULL"
    execute(
        f"UPDATE articles_article SET {POSTGRES_COLUMN} = "
        f"{_POSTGRES_DOCUMENT.format(config=f'{config}::regconfig', row='articles_article')}{where}"
    )
    if POSTGRES_INDEX not in indexes:
        # No pending list (fastupdate): entries go straight into the index, so
        # the planner prices it right even before autovacuum has run, and
        # newsroom write rates do not need the faster inserts.
        execute(
            f"CREATE INDEX {POSTGRES_INDEX} ON articles_article USING gin ({POSTGRES_COLUMN}) WITH (fastupdate = off)"
        )


def uninstall_postgresql_index(schema_editor):
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {POSTGRES_FUNCTION} ON articles_article")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {POSTGRES_FUNCTION}()")
    schema_editor.execute(f"ALTER TABLE articles_article DROP COLUMN IF EXISTS {POSTGRES_COLUMN}")  # and its index


class _StripTags(Func):
    function = "regexp_replace"
    output_field = TextField()

    def __init__(self, expression):
        super().__init__(expression, Value("<[^>]*>"), Value(" "), Value("g"))


def _search_postgresql(queryset, query):
    from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank

    config = settings.NEWSROOM_SEARCH_CONFIG
    vector = _StoredSearchVector()
    tsquery = SearchQuery(query.as_websearch(), search_type="websearch", config=config)
    marks = {"start_sel": START, "stop_sel": STOP}
    return (
        queryset.alias(document=vector)
        .filter(document=tsquery)
        .annotate(
            # Divided by 1 + log(length), like bm25's length normalization: the same top results as SQLite.
            rank=SearchRank(vector, tsquery, normalization=Value(1)),
            search_headline=SearchHeadline("headline", tsquery, config=config, highlight_all=True, **marks),
            search_standfirst=SearchHeadline("standfirst", tsquery, config=config, highlight_all=True, **marks),
            search_excerpt=SearchHeadline(
                _StripTags("body"),
                tsquery,
                config=config,
                max_words=EXCERPT_WORDS,
                min_words=EXCERPT_WORDS // 2,
                max_fragments=2,
                fragment_delimiter=" … ",
                **marks,
            ),
        )
        .order_by("-rank", "-published_at", "-id")
        .select_related("section")
        .prefetch_related(_byline())
        .defer("body")
    )


def _byline(prefix=""):
    from .models import Authorship

    return Prefetch(f"{prefix}authorships", queryset=Authorship.objects.select_related("author"))


# SQLite


class _FTS5Function(Func):
    """An FTS5 auxiliary function; its first argument is the table's hidden column."""

    def __init__(self, function, *args, output_field):
        super().__init__(F("match"), *map(Value, args), function=function, output_field=output_field)


def _search_sqlite(queryset, query):
    """
    The query starts from the FTS5 table, and the articles' conditions
    (published, section, tag) become an EXISTS on each match: SQLite then
    evaluates the MATCH once and checks each match, rather than probing the
    index once for every published article (plans it picks for a join or
    for `rowid IN (...)`, and a thousand times slower on a large newsroom).
    """
    from .models import ArticleSearchEntry

    def highlight(column):
        return _FTS5Function("highlight", column, START, STOP, output_field=TextField())

    return (
        ArticleSearchEntry.objects.using(queryset.db)
        .filter(Exists(queryset.filter(pk=OuterRef("pk"))), match=query.as_fts5())
        .annotate(
            # bm25() is lower for better matches.
            rank=_FTS5Function("bm25", *SQLITE_WEIGHTS, output_field=FloatField()),
            search_headline=highlight(0),
            search_standfirst=highlight(1),
            search_excerpt=_FTS5Function("snippet", 2, START, STOP, "…", EXCERPT_WORDS, output_field=TextField()),
        )
        .order_by("rank", "-article__published_at", "-article__id")
        .select_related("article__section")
        .prefetch_related(_byline("article__"))
        .defer("headline", "standfirst", "body", "article__body")
    )


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
    """Body HTML as the words a reader sees, for the SQLite index (entities decoded)."""
    if not value:
        return ""
    extractor = _TextExtractor()
    extractor.feed(value)
    extractor.close()
    return " ".join("".join(extractor.parts).split())


def sqlite_tokenizer():
    # FTS5's only stemmer is Porter's, for English.
    if settings.NEWSROOM_SEARCH_CONFIG.rsplit(".", 1)[-1] == "english":
        return "porter unicode61 remove_diacritics 2"
    return "unicode61 remove_diacritics 2"


_SQLITE_ROW = (
    f"INSERT INTO {SQLITE_TABLE}(rowid, headline, standfirst, body) "
    f"VALUES (new.id, new.headline, new.standfirst, {SQLITE_TEXT_FUNCTION}(new.body));"
)
SQLITE_TRIGGERS = {
    "articles_search_insert": f"AFTER INSERT ON articles_article BEGIN {_SQLITE_ROW} END",
    "articles_search_update": (
        "AFTER UPDATE OF id, headline, standfirst, body ON articles_article BEGIN "
        f"DELETE FROM {SQLITE_TABLE} WHERE rowid = old.id; {_SQLITE_ROW} END"
    ),
    "articles_search_delete": (
        f"AFTER DELETE ON articles_article BEGIN DELETE FROM {SQLITE_TABLE} WHERE rowid = old.id; END"
    ),
}


def register_sqlite_functions(sender, connection, **kwargs):
    """connection_created receiver: the triggers call html_to_text() on every SQLite connection."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_TEXT_FUNCTION, 1, html_to_text, deterministic=True)


def _sqlite_names(cursor, kind):
    cursor.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
    return {name for (name,) in cursor.fetchall()}


def install_sqlite_index(connection, *, rebuild=False):
    """
    Create the FTS5 table and its triggers where missing, and fill the table
    from the articles when anything was missing (or `rebuild`). Idempotent.

    Django's SQLite schema editor rebuilds a table to alter it, and dropping
    the old table drops its triggers; post_migrate calls this to put them back.
    """
    with connection.cursor() as cursor:
        if rebuild:
            cursor.execute(f"DROP TABLE IF EXISTS {SQLITE_TABLE}")
        tables = _sqlite_names(cursor, "table")
        triggers = _sqlite_names(cursor, "trigger")
        missing = SQLITE_TABLE not in tables or not triggers.issuperset(SQLITE_TRIGGERS)
        if not missing:
            return False
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_TABLE} USING fts5("
            f"headline, standfirst, body, tokenize = '{sqlite_tokenizer()}')"
        )
        for name, definition in SQLITE_TRIGGERS.items():
            cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} {definition}")
        cursor.execute(f"DELETE FROM {SQLITE_TABLE}")
        cursor.execute(
            f"INSERT INTO {SQLITE_TABLE}(rowid, headline, standfirst, body) "
            f"SELECT id, headline, standfirst, {SQLITE_TEXT_FUNCTION}(body) FROM articles_article"
        )
        return True


def uninstall_sqlite_index(connection):
    with connection.cursor() as cursor:
        for name in SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"DROP TABLE IF EXISTS {SQLITE_TABLE}")


def restore_sqlite_index(sender, using, **kwargs):
    """post_migrate receiver: put back the triggers a table rebuild dropped (SQLite only)."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        if SQLITE_TABLE not in _sqlite_names(cursor, "table"):
            return  # migrated back before 0003_discovery: no index wanted
    install_sqlite_index(connection)


# Both


def install_index(schema_editor, *, rebuild=False):
    """The database's search index, created where missing (or rebuilt)."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        install_sqlite_index(schema_editor.connection, rebuild=rebuild)
    elif vendor == "postgresql":
        install_postgresql_index(schema_editor, rebuild=rebuild)


def uninstall_index(schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        uninstall_sqlite_index(schema_editor.connection)
    elif vendor == "postgresql":
        uninstall_postgresql_index(schema_editor)


# Pages of results


class BoundedPaginator(Paginator):
    """Counts matches up to MAX_RESULTS only, so a common word costs no more than a rare one."""

    @cached_property
    def count(self):
        return self.object_list.order_by().values("pk")[:MAX_RESULTS].count()

    @property
    def is_capped(self):
        return self.count >= MAX_RESULTS
