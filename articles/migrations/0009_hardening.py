"""
Issue 13, data integrity: CHECK constraints on article status and on every
CharField's length (SQLite ignores VARCHAR lengths), Tag.key (the normalized,
case-folded name, unique: one tag for `Mali`, `Ｍali` and `mali\u200b`), and
Article.first_published_at (preview links die once the article has been live).

Rows that would break a new constraint stop the migration with a list of them,
before anything changes: fix or merge them (the tag admin's merge action) and run it again.
"""

import django.db.models.functions.text
import django.db.models.lookups
from django.db import migrations, models

from articles.models.taxonomy import normalize_tag_name, tag_key

LENGTHS = {
    "article": {"headline": 255, "slug": 200, "credit": 255, "status": 10},
    "author": {"name": 150, "slug": 150},
    "section": {"name": 100, "slug": 100},
    "tag": {"name": 100, "slug": 100},
    "correction": {"kind": 13},
    "previewlink": {"token": 64},
}


def check_and_fill(apps, schema_editor):
    problems = []
    for model_name, fields in LENGTHS.items():
        model = apps.get_model("articles", model_name)
        for row in model.objects.only(*fields):
            problems += [
                f"{model_name} {row.pk}: {field} is longer than {length} characters"
                for field, length in fields.items()
                if len(getattr(row, field)) > length
            ]
    Article = apps.get_model("articles", "Article")
    problems += [
        f"article {pk}: status {status!r} is neither draft nor published"
        for pk, status in Article.objects.exclude(status__in=["draft", "published"]).values_list("pk", "status")
    ]
    Tag = apps.get_model("articles", "Tag")
    by_key = {}
    for tag in Tag.objects.order_by("pk"):
        tag.name = normalize_tag_name(tag.name)
        tag.key = tag_key(tag.name)
        if not tag.key:
            problems.append(f"tag {tag.pk}: its name has no visible character")
        elif tag.key in by_key:
            problems.append(f"tags {by_key[tag.key].pk} and {tag.pk} are the same tag ({tag.name!r}): merge them")
        by_key[tag.key] = tag
    if problems:
        raise RuntimeError("Fix these rows before migrating:\n" + "\n".join(problems))
    Tag.objects.bulk_update(by_key.values(), ["name", "key"])
    # Published articles have been (or will be) live at their publication time.
    Article.objects.filter(status="published").update(first_published_at=models.F("published_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0008_edit_sessions"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="tag",
            name="tag_name_unique_ignoring_case",
        ),
        migrations.AddField(
            model_name="article",
            name="first_published_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When it first went live (or is scheduled to): from then on its preview links are dead for good.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="tag",
            name="key",
            field=models.CharField(editable=False, max_length=300, null=True),
        ),
        migrations.RunPython(check_and_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="tag",
            name="key",
            field=models.CharField(
                editable=False,
                help_text="The name normalized and case-folded (tag_key): two names with the same key are one tag.",
                max_length=300,
                unique=True,
            ),
        ),
        migrations.AddConstraint(
            model_name="article",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["draft", "published"])),
                name="article_status_valid",
                violation_error_message="The status is draft or published.",
            ),
        ),
        migrations.AddConstraint(
            model_name="article",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("headline"), 255
                ),
                name="article_headline_length",
                violation_error_message="At most 255 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="article",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("slug"), 200
                ),
                name="article_slug_length",
                violation_error_message="At most 200 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="article",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("credit"), 255
                ),
                name="article_credit_length",
                violation_error_message="At most 255 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="article",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("status"), 10
                ),
                name="article_status_length",
                violation_error_message="At most 10 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="author",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("name"), 150
                ),
                name="author_name_length",
                violation_error_message="At most 150 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="author",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("slug"), 150
                ),
                name="author_slug_length",
                violation_error_message="At most 150 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="correction",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length("kind"), 13),
                name="correction_kind_length",
                violation_error_message="At most 13 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="previewlink",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("token"), 64
                ),
                name="previewlink_token_length",
                violation_error_message="At most 64 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="section",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("name"), 100
                ),
                name="section_name_length",
                violation_error_message="At most 100 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="section",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("slug"), 100
                ),
                name="section_slug_length",
                violation_error_message="At most 100 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("name"), 100
                ),
                name="tag_name_length",
                violation_error_message="At most 100 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(
                    django.db.models.functions.text.Length("slug"), 100
                ),
                name="tag_slug_length",
                violation_error_message="At most 100 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.CheckConstraint(
                condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length("key"), 300),
                name="tag_key_length",
                violation_error_message="At most 300 characters.",
            ),
        ),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.CheckConstraint(
                condition=models.Q(("key", ""), _negated=True), name="tag_key_not_empty"
            ),
        ),
    ]
