"""
Search on PostgreSQL (django.contrib.postgres): a weighted tsvector (headline
A, standfirst B, body C) in a `search_vector` column that a trigger keeps up
to date, with a GIN index; websearch_to_tsquery, ts_rank and ts_headline.
The language is settings.NEWSROOM_SEARCH_CONFIG. See docs/search.md.
"""

import re

from django.conf import settings
from django.db.models import Expression, F, Func, Prefetch, TextField, Value

from .highlights import EXCERPT_WORDS, START, STOP, highlight

COLUMN = "search_vector"
FUNCTION = "articles_article_search_vector"
INDEX = "article_search_idx"
PASSAGE_CHARACTERS = 500  # the passage is cut from this much of the body's text

# The weighted document, computed by a trigger on every write. The parser
# skips HTML tags and entities in the body by itself.
_DOCUMENT = """
    setweight(to_tsvector({config}, coalesce({row}.headline, '')), 'A')
    || setweight(to_tsvector({config}, coalesce({row}.standfirst, '')), 'B')
    || setweight(to_tsvector({config}, coalesce({row}.body, '')), 'C')
"""


# The index


def install_index(schema_editor, *, rebuild=False):
    """
    The stored, weighted tsvector column, the trigger that keeps it (on insert,
    and on updates of headline, standfirst or body: save(), update(),
    bulk_create() and loaddata alike), its GIN index, and the vectors of the
    rows already there. The configuration is settings.NEWSROOM_SEARCH_CONFIG
    at the time; `rebuild` recomputes every vector with the current one.
    """
    config = schema_editor.quote_value(settings.NEWSROOM_SEARCH_CONFIG)
    document = _DOCUMENT.format(config="TG_ARGV[0]::regconfig", row="NEW")
    execute = schema_editor.execute
    introspection = schema_editor.connection.introspection
    with schema_editor.connection.cursor() as cursor:
        columns = {column.name for column in introspection.get_table_description(cursor, "articles_article")}
        indexes = introspection.get_constraints(cursor, "articles_article")
    # Checked first: ALTER TABLE and CREATE INDEX refuse to run, even as no-ops,
    # in a transaction that has deferred constraint checks pending on the table.
    if COLUMN not in columns:
        execute(f"ALTER TABLE articles_article ADD COLUMN {COLUMN} tsvector")
    execute(
        f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN NEW.{COLUMN} := {document}; RETURN NEW; END $$"
    )
    execute(
        f"CREATE OR REPLACE TRIGGER {FUNCTION} BEFORE INSERT OR UPDATE OF headline, standfirst, body "
        f"ON articles_article FOR EACH ROW EXECUTE FUNCTION {FUNCTION}({config})"
    )
    where = "" if rebuild else f" WHERE {COLUMN} IS NULL"
    execute(
        f"UPDATE articles_article SET {COLUMN} = "
        f"{_DOCUMENT.format(config=f'{config}::regconfig', row='articles_article')}{where}"
    )
    if INDEX not in indexes:
        # No pending list (fastupdate): entries go straight into the index, so
        # the planner prices it right even before autovacuum has run, and
        # newsroom write rates do not need the faster inserts.
        execute(f"CREATE INDEX {INDEX} ON articles_article USING gin ({COLUMN}) WITH (fastupdate = off)")


def uninstall_index(schema_editor):
    schema_editor.execute(f"DROP TRIGGER IF EXISTS {FUNCTION} ON articles_article")
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    schema_editor.execute(f"ALTER TABLE articles_article DROP COLUMN IF EXISTS {COLUMN}")  # and its index


# Searching


class _StoredSearchVector(Expression):
    """articles_article.search_vector: a column the ORM does not know, kept by a trigger."""

    def __init__(self):
        from django.contrib.postgres.search import SearchVectorField

        super().__init__(output_field=SearchVectorField())

    def as_sql(self, compiler, connection):
        alias = compiler.query.get_initial_alias()
        return f"{connection.ops.quote_name(alias)}.{connection.ops.quote_name(COLUMN)}", []


def _tsquery(query):
    from django.contrib.postgres.search import SearchQuery

    return SearchQuery(query.as_websearch(), search_type="websearch", config=settings.NEWSROOM_SEARCH_CONFIG)


def scored(queryset, query, *, tagged, limit):
    """
    SQL and parameters for the CTE `scored (id, score, published_at)`: the
    newest `limit` matches with their rank. When a word is common the planner
    walks the (status, published_at, id) index newest first, checks each
    row's vector and stops at the limit; when it is rare, the GIN index finds
    the few matches, which are then sorted.
    """
    from django.contrib.postgres.search import SearchRank

    vector = _StoredSearchVector()
    tsquery = _tsquery(query)
    candidates = (
        queryset.alias(document=vector)
        .filter(tagged, document=tsquery)
        # Divided by 1 + log(length), as bm25 normalizes length.
        .annotate(score=SearchRank(vector, tsquery, normalization=Value(1)))
        .order_by("-published_at", "-id")
        .values_list("pk", "score", "published_at")[:limit]
    )
    sql, params = candidates.query.get_compiler(using=candidates.db).as_sql()
    return f"WITH scored (id, score, published_at) AS ({sql}),\n", params


def highlighted(queryset, query, ids):
    """The articles `ids`, with their section, byline and highlights (in no particular order)."""
    from django.contrib.postgres.search import SearchHeadline

    from ..models import Article, Authorship

    config = settings.NEWSROOM_SEARCH_CONFIG
    tsquery = _tsquery(query)
    marks = {"start_sel": START, "stop_sel": STOP}
    articles = (
        Article.objects.using(queryset.db)
        .filter(pk__in=ids)
        .annotate(
            search_headline=SearchHeadline("headline", tsquery, config=config, highlight_all=True, **marks),
            search_standfirst=SearchHeadline("standfirst", tsquery, config=config, highlight_all=True, **marks),
            search_excerpt=_BodyPassage(query),
        )
        .select_related("section")
        .prefetch_related(Prefetch("authorships", queryset=Authorship.objects.select_related("author")))
        .defer("body")
    )
    return [highlight(article, article, from_html=True) for article in articles]


class _BodyPassage(Func):
    """
    ts_headline's passage of the body, cut from PASSAGE_CHARACTERS of its text
    around the first place where a phrase of the query appears as typed, or
    else the first word that starts like one of the query's lexemes, rather
    than from the whole body: ts_headline parses all the text it is given, so
    ten whole bodies would cost more than the search. A Porter stem starts its
    words but for y -> i ("citi" for "city"), which the pattern allows for.
    The piece is highlighted for any of the terms sought (it rarely holds all
    of them); when it holds none (a false start, or a phrase's words apart)
    the whole text is used, for the whole query; when no word starts like a
    lexeme the body did not match, and there is no passage. OFFSET 0 keeps
    PostgreSQL from inlining the subqueries, which would repeat their work.
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
