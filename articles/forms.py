from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from . import revisions
from .models import Article

NOT_ALLOWED_TO_PUBLISH = (
    "Only editors can publish, schedule or unpublish articles. "
    "Save it as a draft and ask an editor to publish it; nothing was saved."
)


class ArticleAdminForm(forms.ModelForm):
    """
    The admin's article form. ArticleAdmin.get_form() sets `may_publish` for the
    user. Two checks run on the server whatever the browser sends:

    - publishing rights: without `articles.publish_article` nobody makes an
      article published or scheduled, takes one back to draft, or moves the
      publication time of one that is published or scheduled;
    - edit conflicts: the form carries the article's `version` as it was when
      opened; the row is locked and its version compared before saving, so a
      second person's save never overwrites the first's.
    """

    may_publish = True

    class Meta:
        model = Article
        fields = ["version"]  # ArticleAdmin passes the fields of its fieldsets
        widgets = {"version": forms.HiddenInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.conflict = None
        if "version" in self.fields:
            # Absent (a script posting by hand): no conflict check, like before this field existed.
            self.fields["version"].required = False
        status = self.fields.get("status")
        if status is not None and not self.may_publish and self.instance.status == Article.Status.DRAFT:
            # Offer only what the user may choose; clean() still refuses the rest.
            status.widget.choices = [(Article.Status.DRAFT, Article.Status.DRAFT.label)]
            status.help_text = "Only editors can publish or schedule an article."

    def clean(self):
        cleaned_data = super().clean()
        if not self.may_publish:
            self.check_publishing_rights(cleaned_data)
        if self.instance.pk is not None and cleaned_data.get("version") is not None:
            self.check_version(cleaned_data["version"])
        return cleaned_data

    def check_publishing_rights(self, cleaned_data):
        was_published = self.instance.pk is not None and self.instance.status == Article.Status.PUBLISHED
        status = cleaned_data.get("status", self.instance.status)
        if (status == Article.Status.PUBLISHED) != was_published:
            # Publishing or scheduling a draft, or taking a published article back.
            self.add_error("status" if "status" in self.fields else None, NOT_ALLOWED_TO_PUBLISH)
        elif (
            was_published
            and "published_at" in cleaned_data
            and cleaned_data["published_at"] != self.instance.published_at
        ):
            self.add_error(
                "published_at",
                "Only editors can change the publication time of a published or scheduled article.",
            )

    def check_version(self, loaded):
        articles = Article.objects.only("version")
        if transaction.get_connection().in_atomic_block:
            # Held until the admin's transaction ends, after the save: a
            # concurrent save of the same article waits here, then sees ours.
            articles = articles.select_for_update()
        try:
            current = articles.get(pk=self.instance.pk).version
        except Article.DoesNotExist:
            raise ValidationError("This article was deleted while you were editing it; nothing was saved.") from None
        if current == loaded:
            return
        self.conflict = conflict_details(self.instance.pk, loaded, current)
        # Saving again after merging is deliberate: carry the version they have now seen.
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = current
        raise ValidationError(mark_safe(render_to_string("admin/articles/article/conflict.html", self.conflict)))


def conflict_details(article_id, loaded, current):
    """What changed between the version someone opened and the one saved since, and by whom."""
    opened = revisions.find_version(article_id, loaded)
    since = revisions.versions_for(article_id).order_by("pk")
    if opened is not None:
        since = since.filter(pk__gt=opened.pk)
        changes = revisions.compare(revisions.state_from_version(opened), revisions.state_from_db(article_id))
    else:
        changes = None
    return {
        "loaded": loaded,
        "current": current,
        "changes": changes,
        "saves": [version.revision for version in since],
    }
