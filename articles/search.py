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
  connection; ranked by the query's mentions in the headline (10 each) and the
  standfirst (4 each), snippets from highlight() and snippet().

A search's cost is bounded whatever the corpus and however common its words:
only the newest MAX_RESULTS matches are ranked (the index hands them over
newest first and stops there: PostgreSQL by publication time, SQLite by id,
FTS5's order), and one query ranks, numbers and counts them and returns a
page; nothing counts or ranks every match. A rare word's matches are all
ranked; a common word's results are the best of its recent matches, which
suits news. The next query fetches the page's articles with their
highlights, so passages are cut for ten articles, not for every match. (With
a section or a tag, SQLite reads matches until MAX_RESULTS of them pass, so
a rare tag with a common word reads many; PostgreSQL's planner picks the
tag's or section's index instead.)

Highlights come back from the database between two private-use characters;
mark_up() escapes the text and only then turns them into <mark>.
"""

import html
import math
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from django.conf import settings
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import (
    Exists,
    Expression,
    F,
    Func,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    TextField,
    Value,
)
from django.utils.html import escape
from django.utils.safestring import mark_safe

MAX_QUERY_LENGTH = 200
# The newest matches that are ranked, and so the most a search shows: "at least
# 500 articles match", and no search costs more than ranking 500 articles.
MAX_RESULTS = 500

START, STOP = "\ue000", "\ue001"
EXCERPT_WORDS = 30
PASSAGE_CHARACTERS = 500  # PostgreSQL cuts the passage from this much of the body's text

SQLITE_TABLE = "articles_search"
SQLITE_SCORED_COLUMNS = ("headline", "standfirst")
SQLITE_WEIGHTS = (10, 4)  # the score of a mention in each
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

    def sought(self):
        """The terms sought (not the excluded ones), each once."""
        return list(dict.fromkeys(term for group in self.groups for term in group if not term.negated))

    def as_websearch_any(self):
        """Any of the terms sought."""
        return " or ".join(term.as_websearch() for term in self.sought())

    def as_fts5_any(self, columns):
        """Any of the terms sought, in these columns only: an FTS5 column filter."""
        return f"{{{' '.join(columns)}}} : ({' OR '.join(term.as_fts5() for term in self.sought())})"


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


def search(queryset, query, *, tag=None):
    """
    The articles of `queryset` matching `query` (a ParsedQuery), best first,
    only those with `tag` if given: Matches, to read a page at a time through
    SearchPaginator.

    The tag is not a filter of `queryset` so that it can be checked on its own,
    from the tag's index, before anything else: SQLite reads the matches one by
    one, and a rare tag with a common word would otherwise read the article row
    of every match (a word in each of 100,000 articles with a tag on 376 of
    them: ~370 ms, and ~65 ms this way).
    """
    vendor = connections[queryset.db].vendor
    if vendor not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"Search supports PostgreSQL and SQLite, not {vendor}.")
    return Matches(queryset, query, tag=tag)


def published_tags():
    """The tag filter's choices: tags on at least one published article (a draft's tag stays unseen)."""
    from .models import Article, Tag, TaggedArticle

    # From each tag's own taggings to their articles, so that the check stops at
    # the tag's first published article; the join the ORM writes for
    # `tags=OuterRef("pk")` let SQLite walk the newest articles looking for each
    # tag instead (10 ms for 300 tags over 100,000 articles).
    published = Article.objects.published().filter(pk=OuterRef("content_object_id"))
    return Tag.objects.filter(Exists(TaggedArticle.objects.filter(Exists(published), tag=OuterRef("pk")))).order_by(
        "name"
    )


def tag_options(tags, selected):
    """
    The tag filter's <option>s as safe HTML. Every tag in use is one, 300 on a
    large newsroom: a template loop took ~3 ms of every search page to write
    them, this ~0.5 ms.
    """
    return mark_safe(
        "".join(
            f'<option value="{escape(tag.slug)}"{" selected" if tag == selected else ""}>{escape(tag.name)}</option>'
            for tag in tags
        )
    )


# One page of ranked candidates: numbered and counted in the same pass, and a
# page past the end is the last one. `scored` holds (id, score, published_at)
# for the newest MAX_RESULTS matches.
_RANKED_PAGE = """
    ranked AS (
        SELECT id,
            row_number() OVER (ORDER BY score DESC, published_at DESC, id DESC) AS position,
            count(*) OVER () AS total
        FROM scored
    )
    SELECT id, position, total FROM ranked
    WHERE position > CASE WHEN %s < total THEN %s ELSE (total - 1) / %s * %s END
    ORDER BY position
    LIMIT %s
"""
_RANKED_PAGE_POSTGRESQL = "WITH scored (id, score, published_at) AS ({candidates}),\n" + _RANKED_PAGE
# On SQLite only the candidates that mention a term in the headline or the
# standfirst have a score: a second MATCH, with a column filter, finds them
# within the candidates' range of ids without reading the other rows' text (the
# unary + keeps FTS5 from probing the index once per candidate instead).
_RANKED_PAGE_SQLITE = (
    """
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
    + _RANKED_PAGE
)


class Matches:
    """
    The result of a search, read a page at a time with ranked(). The index
    hands over the newest MAX_RESULTS matches and stops there; they are ranked,
    numbered and counted by one query, which returns a page's ids, and a second
    query fetches those articles with their highlights.
    """

    def __init__(self, queryset, query, *, tag=None):
        self.queryset = queryset
        self.query = query
        self.tag = tag
        self.vendor = connections[queryset.db].vendor

    def ranked(self, *, offset, limit):
        """
        (articles, position of the first, number of ranked matches) for the
        page at `offset`, or the last page when `offset` is past the end. Each
        article has its section, its byline and safe HTML highlights:
        `highlighted_headline`, `highlighted_standfirst` and `highlighted_excerpt`
        (a passage of the body, only when the body matched; otherwise the
        standfirst says enough). No query when there is nothing to look for.
        """
        if not self.query:
            return [], 0, 0
        sql, params = self.ranked_sql(offset=offset, limit=limit)
        with connections[self.queryset.db].cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return [], 0, 0
        ids = [row[0] for row in rows]
        return self.articles(ids), rows[0][1], rows[0][2]

    def ranked_sql(self, *, offset, limit):
        page = (offset, offset, limit, limit, limit)
        if self.vendor == "postgresql":
            candidates = _candidates_postgresql(self.queryset, self.query, self.tag)
            sql, params = candidates.query.get_compiler(using=candidates.db).as_sql()
            return _RANKED_PAGE_POSTGRESQL.replace("{candidates}", sql), (*params, *page)
        candidates = _candidates_sqlite(self.queryset, self.query, self.tag)
        sql, params = candidates.query.get_compiler(using=candidates.db).as_sql()
        score, score_params = _sqlite_score()
        mentions = self.query.as_fts5_any(SQLITE_SCORED_COLUMNS)
        sql = _RANKED_PAGE_SQLITE.replace("{candidates}", sql).replace("{score}", score)
        return sql, (*params, *score_params, mentions, *page)

    def articles(self, ids):
        if self.vendor == "postgresql":
            rows = _highlighted_postgresql(self.queryset, self.query, ids)
        else:
            rows = _highlighted_sqlite(self.queryset, self.query, ids)
        order = {pk: position for position, pk in enumerate(ids)}
        return sorted(map(_highlighted, rows), key=lambda article: order[article.pk])


def _highlighted(row):
    """The article of a row of _highlighted_postgresql() or _highlighted_sqlite(), its highlights marked up."""
    from .models import ArticleSearchEntry

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
    return article


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


class _BodyPassage(Func):
    """
    ts_headline's passage of the body, cut from PASSAGE_CHARACTERS of its text
    around the first place where a phrase of the query appears as typed, or
    else the first word that starts like one of the query's lexemes, rather
    than from the whole body: ts_headline parses all the text it is given,
    ~0.7 ms for an 800-word article, so ten passages cost more than the search.
    A Porter stem starts its words but for y -> i ("citi" for "city"), which
    the pattern allows for. The piece is highlighted for any of the terms
    sought (it rarely holds all of them); when it holds none (a false start,
    or a phrase's words apart) the whole text is used, for the whole query;
    when no word starts like a lexeme the body did not match, and there is no
    passage. OFFSET 0 keeps PostgreSQL from inlining the subqueries, which
    would repeat their work.
    """

    output_field = TextField()
    template = r"""(
        SELECT CASE WHEN at = 0 THEN NULL
            WHEN to_tsvector(%s::regconfig, piece) @@ any_term THEN ts_headline(%s::regconfig, piece, any_term, %s)
            ELSE ts_headline(%s::regconfig, plain, tsquery, %s) END
        FROM (
            SELECT plain, tsquery, any_term, at, substr(plain, greatest(at - %s, 1), %s) AS piece
            FROM (
                SELECT plain, tsquery, any_term, coalesce(
                    nullif(regexp_instr(plain, %s, 1, 1, 0, 'i'), 0),
                    regexp_instr(plain, '\m(' || (
                        SELECT string_agg(regexp_replace(regexp_replace(lexeme, '\W', %s, 'g'), 'i$', '[iy]'), '|')
                        FROM unnest(tsvector_to_array(to_tsvector(%s::regconfig, %s))) AS lexeme
                    ) || ')', 1, 1, 0, 'i'),
                    0
                ) AS at
                FROM (
                    SELECT regexp_replace({body}, '<[^>]*>', ' ', 'g') AS plain, {tsquery} AS tsquery,
                        websearch_to_tsquery(%s::regconfig, %s) AS any_term
                    OFFSET 0
                ) AS text
                OFFSET 0
            ) AS found
            OFFSET 0
        ) AS cut
    )"""

    def __init__(self, query):
        super().__init__(F("body"), _tsquery(query))
        self.query = query

    def as_sql(self, compiler, connection, **extra_context):
        body, tsquery = (compiler.compile(expression) for expression in self.get_source_expressions())
        config = settings.NEWSROOM_SEARCH_CONFIG
        options = {
            "StartSel": START,
            "StopSel": STOP,
            "MaxWords": EXCERPT_WORDS,
            "MinWords": EXCERPT_WORDS // 2,
            "MaxFragments": 2,
            "FragmentDelimiter": " … ",
        }
        options = ", ".join(connection.ops.compose_sql(f"{name}=%s", [value]) for name, value in options.items())
        sought = [term.text for term in self.query.sought()]
        # A phrase is looked for first as typed: its words in a row, any spaces or punctuation between.
        phrases = [
            r"\W+".join(re.sub(r"(\W)", r"\\\1", word) for word in text.split()) for text in sought if " " in text
        ]
        phrases = rf"\m({'|'.join(phrases)})\M" if phrases else None
        escape = r"\\\&"  # regexp_replace's replacement: a backslash, then the character matched
        params = (
            *(config, config, options, config, options),
            *(PASSAGE_CHARACTERS // 2, PASSAGE_CHARACTERS),
            *(phrases, escape, config, " ".join(sought)),
        )
        sql = self.template.replace("{body}", body[0]).replace("{tsquery}", tsquery[0])
        return sql, (*params, *body[1], *tsquery[1], config, self.query.as_websearch_any())


def _tsquery(query):
    from django.contrib.postgres.search import SearchQuery

    return SearchQuery(query.as_websearch(), search_type="websearch", config=settings.NEWSROOM_SEARCH_CONFIG)


def _tagged(tag, article):
    """Tagged with `tag` (Exists), or no condition at all when there is no tag."""
    from .models import TaggedArticle

    return Exists(TaggedArticle.objects.filter(tag=tag, content_object=article)) if tag else Q()


def _candidates_postgresql(queryset, query, tag):
    """
    The newest MAX_RESULTS matches with their rank. When a word is common the
    planner walks the (status, published_at, id) index newest first, checks
    each row's vector and stops at the limit; when it is rare, the GIN index
    finds the few matches, which are then sorted.
    """
    from django.contrib.postgres.search import SearchRank

    vector = _StoredSearchVector()
    tsquery = _tsquery(query)
    return (
        queryset.alias(document=vector)
        .filter(_tagged(tag, OuterRef("pk")), document=tsquery)
        # Divided by 1 + log(length), as bm25 normalizes length.
        .annotate(score=SearchRank(vector, tsquery, normalization=Value(1)))
        .order_by("-published_at", "-id")
        .values_list("pk", "score", "published_at")[:MAX_RESULTS]
    )


def _highlighted_postgresql(queryset, query, ids):
    from django.contrib.postgres.search import SearchHeadline

    from .models import Article

    config = settings.NEWSROOM_SEARCH_CONFIG
    tsquery = _tsquery(query)
    marks = {"start_sel": START, "stop_sel": STOP}
    return (
        Article.objects.using(queryset.db)
        .filter(pk__in=ids)
        .annotate(
            search_headline=SearchHeadline("headline", tsquery, config=config, highlight_all=True, **marks),
            search_standfirst=SearchHeadline("standfirst", tsquery, config=config, highlight_all=True, **marks),
            search_excerpt=_BodyPassage(query),
        )
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


def _sqlite_score():
    """
    SQL for a row's score: SQLITE_WEIGHTS per mention of the query in the
    headline and in the standfirst. highlight() puts one character before each
    mention, so the length it adds is their number.

    Not bm25(): its statistics (how many articles hold each term or phrase)
    are a pass over every match, ~3 ms for a word in each of 100,000 articles
    and ~18 ms for a phrase of common words, growing with the archive.
    """
    terms = [
        f"{weight} * (length(highlight({SQLITE_TABLE}, {column}, %s, '')) - length({name}))"
        for column, (name, weight) in enumerate(zip(SQLITE_SCORED_COLUMNS, SQLITE_WEIGHTS, strict=True))
    ]
    return " + ".join(terms), [START] * len(terms)


def _candidates_sqlite(queryset, query, tag):
    """
    The newest MAX_RESULTS matches (newest by id: the index's order) with
    their publication time. The query starts from the FTS5 table, newest
    first, and the articles' conditions (published, section, tag) become an
    EXISTS on each match: SQLite then reads the matches in the index's order
    and stops at the limit, rather than probing the index once for every
    published article (plans it picks for a join or for `rowid IN (...)`, and
    a thousand times slower on a large newsroom).
    """
    from .models import Article, ArticleSearchEntry

    return (
        ArticleSearchEntry.objects.using(queryset.db)
        # The tag first: its index answers without reading the article's row.
        .filter(_tagged(tag, OuterRef("pk")))
        .filter(Exists(queryset.filter(pk=OuterRef("pk"))), match=query.as_fts5())
        .annotate(
            published_at=Subquery(Article.objects.filter(pk=OuterRef("pk")).order_by().values("published_at")),
        )
        .order_by("-pk")
        .values_list("pk", "published_at")[:MAX_RESULTS]
    )


def _highlighted_sqlite(queryset, query, ids):
    """Each row a MATCH of one id (FTS5 takes `rowid = ?` with MATCH), so only these are read and highlighted."""
    from .models import ArticleSearchEntry

    def highlight(column):
        return _FTS5Function("highlight", column, START, STOP, output_field=TextField())

    return (
        ArticleSearchEntry.objects.using(queryset.db)
        .filter(match=query.as_fts5(), pk__in=ids)
        .annotate(
            search_headline=highlight(0),
            search_standfirst=highlight(1),
            search_excerpt=_FTS5Function("snippet", 2, START, STOP, "…", EXCERPT_WORDS, output_field=TextField()),
        )
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


class SearchPaginator(Paginator):
    """
    Django's page API over Matches. The count (of the ranked matches, at most
    MAX_RESULTS) comes with the page, from the same query: there is no COUNT.
    A malformed page number shows the first page, one past the end the last.
    """

    def get_page(self, number):
        try:
            number = max(int(number), 1)
        except (TypeError, ValueError):
            number = 1
        # Past the last possible page is the last page, with no huge OFFSET sent to the database.
        number = min(number, math.ceil(MAX_RESULTS / self.per_page))
        offset = (number - 1) * self.per_page
        articles, first, self.count = self.object_list.ranked(offset=offset, limit=self.per_page)
        number = (first - 1) // self.per_page + 1 if articles else 1
        return self._get_page(articles, number, self)

    page = get_page

    @property
    def is_capped(self):
        return self.count >= MAX_RESULTS
