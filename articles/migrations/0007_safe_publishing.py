import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from articles.roles import ensure_roles


def times_already_chosen(apps, schema_editor):
    """Published and scheduled articles keep their time; drafts get theirs when published."""
    Article = apps.get_model("articles", "Article")
    Article.objects.filter(status="published").update(publication_time_chosen=True)


class Migration(migrations.Migration):
    dependencies = [("articles", "0006_performance")]

    operations = [
        migrations.AddField(
            model_name="article",
            name="publication_time_chosen",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "Set when an editor chose the publication time (a schedule, a back-date) or the article went "
                    "live: publishing keeps that time. Otherwise publishing sets it to the moment of publication."
                ),
            ),
        ),
        migrations.RunPython(times_already_chosen, migrations.RunPython.noop),
        migrations.CreateModel(
            name="ArticleRedirect",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("old_path", models.CharField(help_text="E.g. /2026/12/01/old-slug/.", max_length=300, unique=True)),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="moved at"),
                ),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="redirects",
                        to="articles.article",
                    ),
                ),
            ],
            options={
                "verbose_name": "old address",
                "verbose_name_plural": "old addresses",
                "ordering": ["-created_at", "-id"],
            },
        ),
        # Editors see (and may delete) old addresses in the admin.
        migrations.RunPython(ensure_roles, migrations.RunPython.noop),
    ]
