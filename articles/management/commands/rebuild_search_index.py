from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections

from articles import search
from articles.models import Article


class Command(BaseCommand):
    help = (
        "Rebuild the full-text search index from the articles: on PostgreSQL the search_vector column, "
        "its trigger and GIN index, with the current NEWSROOM_SEARCH_CONFIG; on SQLite the FTS5 table "
        "and its triggers."
    )

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="The database to rebuild the index in.")

    def handle(self, *args, database, **options):
        connection = connections[database]
        with connection.schema_editor() as schema_editor:  # one transaction where DDL allows it
            search.install_index(schema_editor, rebuild=True)
        self.stdout.write(f"Rebuilt the search index of {Article.objects.using(database).count()} articles.")
