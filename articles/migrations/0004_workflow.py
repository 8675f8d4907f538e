import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from articles.roles import ensure_roles, remove_roles


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_discovery"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="article",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                default=None,
                editable=False,
                help_text="Who wrote it first in the admin: reporters may edit their own drafts.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                serialize=False,
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="article",
            name="version",
            field=models.PositiveIntegerField(
                default=0, help_text="Goes up by one on every save; the admin uses it to catch edit conflicts."
            ),
        ),
        # The Reporter and Editor groups (articles/roles.py).
        migrations.RunPython(ensure_roles, remove_roles),
    ]
