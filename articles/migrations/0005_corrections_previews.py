from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("articles", "0004_workflow")]

    operations = []
