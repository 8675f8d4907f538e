class SearchIndexRouter:
    """
    Keeps the full-text index out of dumpdata and loaddata.

    ArticleSearchEntry reads the SQLite FTS5 table that triggers derive from the
    articles (articles/search/); on PostgreSQL there is no such table at all.
    Dumping it would fail on PostgreSQL and, on SQLite, write rows that cannot
    be loaded back; skipped, the index fills itself as the articles go in.
    """

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == "articles" and model_name == "articlesearchentry":
            return False
        return None
