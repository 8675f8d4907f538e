import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import articles.models


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Image",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "file",
                    models.FileField(
                        help_text="JPEG, PNG, WebP or GIF, up to 25 MB and 50 megapixels. Location and camera data are removed.",
                        max_length=255,
                        upload_to=articles.models.image_upload_to,
                    ),
                ),
                (
                    "alt_text",
                    models.CharField(
                        help_text="What the photo shows, for readers who cannot see it. Required. E.g. “Soldiers unload a helicopter at Bamako airport”.",
                        max_length=300,
                        verbose_name="alt text",
                    ),
                ),
                ("caption", models.TextField(blank=True, help_text="Shown under the photo. An article can replace it.")),
                ("credit", models.CharField(blank=True, help_text="E.g. “Reuters/Moussa Sissoko”.", max_length=255)),
                ("width", models.PositiveIntegerField(editable=False)),
                ("height", models.PositiveIntegerField(editable=False)),
                (
                    "focal_x",
                    models.FloatField(
                        blank=True,
                        help_text="0 is the left edge, 1 the right. Crops (e.g. social cards) keep this point in view.",
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(0),
                            django.core.validators.MaxValueValidator(1),
                        ],
                        verbose_name="focal point (across)",
                    ),
                ),
                (
                    "focal_y",
                    models.FloatField(
                        blank=True,
                        help_text="0 is the top edge, 1 the bottom. Leave both empty for the centre.",
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(0),
                            django.core.validators.MaxValueValidator(1),
                        ],
                        verbose_name="focal point (down)",
                    ),
                ),
                (
                    "sha256",
                    models.CharField(
                        editable=False,
                        help_text="SHA-256 of the stored file.",
                        max_length=64,
                        unique=True,
                        verbose_name="content hash",
                    ),
                ),
                ("uploaded_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="uploaded_images",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-uploaded_at", "-id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("height__gt", 0), ("width__gt", 0)), name="image_has_dimensions"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("focal_x__isnull", True),
                                models.Q(("focal_x__gte", 0), ("focal_x__lte", 1)),
                                _connector="OR",
                            ),
                            models.Q(
                                ("focal_y__isnull", True),
                                models.Q(("focal_y__gte", 0), ("focal_y__lte", 1)),
                                _connector="OR",
                            ),
                        ),
                        name="image_focal_point_inside",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="article",
            name="lead_image",
            field=models.ForeignKey(
                blank=True,
                help_text="Shown at the top of the article, as its thumbnail in lists and on social cards.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="articles",
                to="articles.image",
            ),
        ),
        migrations.AddField(
            model_name="article",
            name="lead_image_caption",
            field=models.TextField(
                blank=True,
                default="",
                help_text="Replaces the image's own caption on this article only. Leave empty to use the image's caption.",
                verbose_name="caption for this article",
            ),
        ),
        migrations.CreateModel(
            name="Rendition",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "spec",
                    models.CharField(
                        help_text="What was asked for, e.g. “w640.webp” or “social.jpeg”.", max_length=40
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("width", "Responsive width"), ("social", "Social card (1200×630)")], max_length=10
                    ),
                ),
                (
                    "format",
                    models.CharField(choices=[("avif", "AVIF"), ("webp", "WebP"), ("jpeg", "JPEG")], max_length=10),
                ),
                ("width", models.PositiveIntegerField()),
                ("height", models.PositiveIntegerField()),
                ("file", models.FileField(max_length=255, upload_to="")),
                (
                    "signature",
                    models.CharField(
                        help_text="A digest of the source and the settings it was made with; stale when it differs.",
                        max_length=16,
                    ),
                ),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                (
                    "image",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="renditions", to="articles.image"
                    ),
                ),
            ],
            options={
                "ordering": ["image", "kind", "format", "width"],
                "constraints": [
                    models.UniqueConstraint(fields=("image", "spec"), name="rendition_unique_spec"),
                ],
            },
        ),
    ]
