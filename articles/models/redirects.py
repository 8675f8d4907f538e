from django.db import models
from django.utils import timezone

from .articles import Article
from .base import max_length_checks


class ArticleRedirectQuerySet(models.QuerySet):
    def get_by_natural_key(self, old_path):
        return self.get(old_path=old_path)

    def live_article_for(self, path):
        """The live article that once answered at `path`, or None (asked only when nothing answers there now)."""
        found = self.filter(old_path=path, article__in=Article.objects.published().values("pk"))
        found = found.select_related("article").first()
        return found.article if found else None

    def remember(self, article, old_path):
        """
        Send `old_path` to `article` from now on. An address has one owner, the
        last article to leave it; the article's own current address needs no redirect.
        """
        current = article.get_absolute_url()
        self.filter(old_path=current).delete()
        if old_path != current:
            self.update_or_create(old_path=old_path, defaults={"article": article, "created_at": timezone.now()})


class ArticleRedirect(models.Model):
    """An address an article had (a slug or date change): it answers with a permanent redirect to the article."""

    old_path = models.CharField(max_length=300, unique=True, help_text="E.g. /2026/12/01/old-slug/.")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="redirects")
    created_at = models.DateTimeField("moved at", default=timezone.now)

    objects = ArticleRedirectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "old address"
        verbose_name_plural = "old addresses"
        constraints = max_length_checks("articleredirect", old_path=300)

    def __str__(self):
        return f"{self.old_path} → “{self.article}”"

    def natural_key(self):
        return (self.old_path,)

    natural_key.dependencies = ["articles.article"]
