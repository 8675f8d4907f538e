import django.db.models.deletion
from django.db import migrations, models

from articles import search


def install_search_index(apps, schema_editor):
    """
    PostgreSQL: a tsvector column kept by a trigger, with a GIN index.
    SQLite: an FTS5 table kept by triggers. Both filled from the articles.
    """
    search.install_index(schema_editor)


def uninstall_search_index(apps, schema_editor):
    search.uninstall_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("articles", "0002_images")]

    operations = [
        # The SQLite FTS5 table, for the ORM only: RunPython creates it, on SQLite alone.
        migrations.CreateModel(
            name="ArticleSearchEntry",
            fields=[
                (
                    "article",
                    models.OneToOneField(
                        db_column="rowid",
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="search_entry",
                        serialize=False,
                        to="articles.article",
                    ),
                ),
                ("headline", models.TextField()),
                ("standfirst", models.TextField()),
                ("body", models.TextField(help_text="The body's text, without HTML.")),
                ("match", models.TextField(db_column="articles_search")),
            ],
            options={
                "db_table": "articles_search",
                "managed": False,
            },
        ),
        migrations.RunPython(install_search_index, uninstall_search_index, elidable=False),
    ]
