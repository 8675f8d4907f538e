from django.db import models

from .articles import Article


class ArticleSearchEntry(models.Model):
    """
    An article's row in the SQLite full-text index: an FTS5 table that triggers
    keep in sync with the articles (articles/search/). Read-only; it exists on
    SQLite only (PostgreSQL indexes the article table itself).
    """

    article = models.OneToOneField(
        Article,
        primary_key=True,
        db_column="rowid",
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        related_name="search_entry",
    )
    headline = models.TextField()
    standfirst = models.TextField()
    body = models.TextField(help_text="The body's text, without HTML.")
    # FTS5's hidden column named after the table: `articles_search = 'query'` is a MATCH.
    match = models.TextField(db_column="articles_search")

    class Meta:
        managed = False
        db_table = "articles_search"

    def __str__(self):
        return self.headline
