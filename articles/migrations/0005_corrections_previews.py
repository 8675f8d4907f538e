import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import articles.models
from articles.roles import ensure_roles


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0004_workflow"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Correction",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("correction", "Correction"), ("clarification", "Clarification"), ("update", "Update")],
                        default="correction",
                        help_text="Updates show under the byline; corrections and clarifications at the foot of the article.",
                        max_length=13,
                    ),
                ),
                (
                    "text",
                    models.TextField(help_text="Plain text, shown to readers as written, e.g. “An earlier version said…”."),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now,
                        help_text="Shown to readers with the note; also the article's modified date.",
                        verbose_name="date",
                    ),
                ),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="corrections",
                        to="articles.article",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="added by",
                    ),
                ),
            ],
            options={
                "ordering": ["created_at", "id"],
                "constraints": [
                    models.UniqueConstraint(fields=("article", "created_at"), name="correction_unique_time"),
                    models.CheckConstraint(
                        condition=models.Q(("kind__in", ["correction", "clarification", "update"])),
                        name="correction_kind_valid",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="PreviewLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "token",
                    models.CharField(
                        default=articles.models.new_preview_token, editable=False, max_length=64, unique=True
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "expires_at",
                    models.DateTimeField(
                        default=articles.models.preview_expiry,
                        help_text="The link stops working at this time.",
                        verbose_name="expires",
                    ),
                ),
                ("revoked_at", models.DateTimeField(blank=True, editable=False, null=True, verbose_name="revoked")),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="preview_links",
                        to="articles.article",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
            ],
            options={
                "verbose_name": "preview link",
                "ordering": ["-created_at", "-id"],
            },
        ),
        # Editors get the new models' permissions (articles/roles.py lists them).
        migrations.RunPython(ensure_roles, migrations.RunPython.noop),
    ]
