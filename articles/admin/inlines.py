"""The article form's inline rows: its byline and related articles (kept in order), and its corrections."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils import timezone

from ..models import Article, Authorship, Correction, Related
from ..services import listed


class ReadyForReadersFormSet(forms.BaseInlineFormSet):
    """
    The byline inline's formset also runs the ready check when the save keeps
    the article published (Update, Publish now): the form's changes are on
    self.instance by now, and the byline is in this formset, not yet saved.
    Drafts are checked after they are saved (ArticleAdmin.publish_from_form).
    """

    publication_problems = ""

    def clean(self):
        super().clean()
        article = self.instance
        if article.pk is None or article.status != Article.Status.PUBLISHED:
            return
        has_byline = any(
            form.cleaned_data.get("author") and not form.cleaned_data.get("DELETE")
            for form in self.forms
            if hasattr(form, "cleaned_data")
        )
        missing = article.missing_for_publication(has_byline=has_byline)
        if missing:
            self.publication_problems = (
                f"Not saved: a published article cannot lose what readers need; it still needs {listed(missing)}."
            )
            raise ValidationError(self.publication_problems)


class OrderedInline(admin.TabularInline):
    """
    Rows kept in order by `position`: dragged, or moved with the arrow keys, by
    their handle (static/js/article-form.js renumbers them 0, 1, 2... as shown,
    so a new row goes after the others). Every field is named for screen readers.
    """

    template = "admin/articles/edit_inline/ordered_tabular.html"
    extra = 0
    row_relations = ()  # loaded with the rows (select_related): what str(row) names

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        row_name = self.verbose_name

        class OrderedFormSet(formset):
            def add_fields(self, form, index):
                super().add_fields(form, index)
                row = "new row" if index is None else f"{row_name} {index + 1}"
                for field in form.fields.values():
                    field.widget.attrs.setdefault("aria-label", f"{field.label or 'Delete'} ({row})")

        return OrderedFormSet

    def get_queryset(self, request):
        # Each row is labelled with str(row), which names the articles and authors in row_relations.
        return super().get_queryset(request).select_related(*self.row_relations)


class AuthorshipInline(OrderedInline):
    model = Authorship
    formset = ReadyForReadersFormSet
    autocomplete_fields = ["author"]
    fields = ["author", "position"]
    verbose_name = "author"
    verbose_name_plural = "byline (in order)"

    row_relations = ["article", "author"]


class RelatedInline(OrderedInline):
    model = Related
    fk_name = "article"
    autocomplete_fields = ["related_article"]
    fields = ["related_article", "position"]
    verbose_name = "related article"
    verbose_name_plural = "related articles (curated, in order; the page fills up to four by shared tags)"

    row_relations = ["article", "related_article"]


class CorrectionInline(admin.StackedInline):
    """Corrections, clarifications and updates; who added one is stamped when it is saved."""

    model = Correction
    fields = ["kind", "text", "created_at", "created_by"]
    readonly_fields = ["created_at", "created_by"]
    extra = 0
    verbose_name = "correction or update"
    verbose_name_plural = "corrections, clarifications and updates (shown to readers once the article is live)"

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)

        class StampingFormSet(formset):
            def save_new(self, form, commit=True):
                form.instance.created_by = request.user
                form.instance.created_at = timezone.now()
                return super().save_new(form, commit=commit)

        return StampingFormSet
