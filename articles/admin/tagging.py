"""Tagging in bulk from the article list: add a tag to, or remove one from, the selected articles."""

from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.template.response import TemplateResponse
from django.utils.translation import ngettext

from ..models import Article
from ..services import add_tag, remove_tag
from .forms import AddTagForm, RemoveTagForm


class TagActionsMixin:
    """
    For ArticleAdmin: the "Add a tag…" and "Remove a tag…" actions, each with an
    intermediate form. Only the articles the user may change are touched (a
    reporter's own drafts); the others are counted and left alone. The cache
    follows the tag changes through m2m_changed (articles/caching/keys.py).
    """

    def _changeable(self, request, queryset):
        articles = list(queryset.select_related(None).order_by("-published_at", "-id"))
        allowed = [article for article in articles if self.has_change_permission(request, article)]
        return allowed, len(articles) - len(allowed)

    def _tag_action_page(self, request, *, action, title, form, articles, skipped, submit):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "media": self.media + form.media,
            "articles": articles,
            "skipped": skipped,
            "action": action,
            "submit": submit,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/articles/article/tag_action.html", context)

    def _report(self, request, count, skipped, done, none):
        if count:
            self.message_user(request, ngettext(done[0], done[1], count) % count, messages.SUCCESS)
        else:
            self.message_user(request, none, messages.INFO)
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%d article was left as it was: you may not change it.",
                    "%d articles were left as they were: you may not change them.",
                    skipped,
                )
                % skipped,
                messages.WARNING,
            )

    @admin.action(description="Add a tag to the selected articles…", permissions=["change"])
    def add_tag(self, request, queryset):
        articles, skipped = self._changeable(request, queryset)
        form = AddTagForm(request.POST if "apply" in request.POST else None)
        field = form.fields["tag"]
        field.widget = AutocompleteSelect(
            Article._meta.get_field("tags"), self.admin_site, attrs={"data-placeholder": "Type to search tags"}
        )
        field.widget.choices = field.choices
        if form.is_valid() and articles:
            tag, created = form.tag_to_add()
            count = add_tag(articles=articles, tag=tag, by=request.user)
            if created:
                self.message_user(request, f"New tag “{tag.name}” created.", messages.SUCCESS)
            self._report(
                request,
                count,
                skipped,
                (f"Tagged %d article with “{tag.name}”.", f"Tagged %d articles with “{tag.name}”."),
                f"The selected articles already had the tag “{tag.name}”.",
            )
            return None
        return self._tag_action_page(
            request,
            action="add_tag",
            title="Add a tag to the selected articles",
            form=form,
            articles=articles,
            skipped=skipped,
            submit="Add the tag",
        )

    @admin.action(description="Remove a tag from the selected articles…", permissions=["change"])
    def remove_tag(self, request, queryset):
        articles, skipped = self._changeable(request, queryset)
        form = RemoveTagForm(request.POST if "apply" in request.POST else None, articles=articles)
        if not form.fields["tag"].queryset.exists():
            self.message_user(request, "The selected articles have no tags to remove.", messages.INFO)
            return None
        if form.is_valid():
            tag = form.cleaned_data["tag"]
            count = remove_tag(articles=articles, tag=tag, by=request.user)
            self._report(
                request,
                count,
                skipped,
                (f"Removed the tag “{tag.name}” from %d article.", f"Removed the tag “{tag.name}” from %d articles."),
                f"None of the selected articles had the tag “{tag.name}”.",
            )
            return None
        return self._tag_action_page(
            request,
            action="remove_tag",
            title="Remove a tag from the selected articles",
            form=form,
            articles=articles,
            skipped=skipped,
            submit="Remove the tag",
        )
