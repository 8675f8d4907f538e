from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("articles", "0005_corrections_previews")]

    operations = [
        migrations.AddIndex(
            model_name="article",
            index=models.Index(
                fields=["section", "status", "published_at", "id"], name="article_section_published_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="taggedarticle",
            index=models.Index(fields=["tag", "content_object"], name="taggedarticle_tag_article_idx"),
        ),
    ]
