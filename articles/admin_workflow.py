"""
The editorial workflow in ArticleAdmin: roles, scheduling display, revisions
and edit conflicts. Mixed into ArticleAdmin (articles/admin.py).
"""

import reversion
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Value, When
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timeuntil

from . import revisions
from .forms import ArticleAdminForm
from .models import Article
from .roles import PUBLISH_PERMISSION

HISTORY_LENGTH = 50


def schedule_label(article, now=None):
    """'Scheduled for 3 Oct 2021, 09:00 (in 2 hours)', in the site's time zone."""
    now = now or timezone.now()
    when = date_format(timezone.localtime(article.published_at), "j M Y, H:i")
    return f"Scheduled for {when} (in {timeuntil(article.published_at, now, depth=1)})"


class StateListFilter(admin.SimpleListFilter):
    """Live, scheduled or draft, computed from the time of the request."""

    title = "schedule"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("scheduled", "Scheduled"), ("draft", "Draft")]

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.published()
        if self.value() == "scheduled":
            return queryset.scheduled()
        if self.value() == "draft":
            return queryset.filter(status=Article.Status.DRAFT)
        return queryset


class WorkflowAdminMixin:
    """
    Roles: without `articles.publish_article` (reporters) a user changes and
    deletes only their own drafts, sees them first, and the form refuses any
    publishing (articles/forms.py). Revisions: every save through the admin, list
    action and restore is a django-reversion revision with its user; the history
    page compares any two and restores one. Edit conflicts: the form carries the
    article's version (articles/forms.py).
    """

    form = ArticleAdminForm
    object_history_template = "admin/articles/article/object_history.html"

    # Roles --------------------------------------------------------------------

    def may_publish(self, request):
        return request.user.has_perm(PUBLISH_PERMISSION)

    def is_own_draft(self, request, article):
        return article.status == Article.Status.DRAFT and article.created_by_id == request.user.pk

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if allowed and obj is not None and not self.may_publish(request):
            return self.is_own_draft(request, obj)
        return allowed

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if allowed and obj is not None and not self.may_publish(request):
            return self.is_own_draft(request, obj)
        return allowed

    def may_restore(self, request, article):
        return self.may_publish(request) and self.has_change_permission(request, article)

    def get_ordering(self, request):
        ordering = list(super().get_ordering(request) or [])
        if self.may_publish(request):
            return ordering
        own_drafts_first = Case(
            When(status=Article.Status.DRAFT, created_by=request.user.pk, then=Value(0)), default=Value(1)
        )
        return [own_drafts_first.asc(), *ordering]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"may_publish": self.may_publish(request)})

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self.has_change_permission(request, obj):
            return fieldsets
        # The version the form was opened with travels as a hidden field.
        (name, options), *rest = fieldsets
        return [(name, {**options, "fields": [*options["fields"], "version"]}), *rest]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    # Scheduling ---------------------------------------------------------------

    def state_text(self, article):
        """The badge's label and style: computed at request time, so "Scheduled" turns "Live" by itself."""
        if article.is_live:
            return "Live", "live"
        if article.is_scheduled:
            return schedule_label(article), "scheduled"
        return "Draft", "draft"

    # Revisions ----------------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id is not None:
            article = self.get_object(request, unquote(object_id))
            if article is not None and self.has_view_or_change_permission(request, article):
                revisions.ensure_baseline(article)
        with reversion.create_revision():
            reversion.set_user(request.user)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(entry.get_change_message() or "Created.")
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(entry.get_change_message() or "Saved without changes.")
        return entry

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/history/compare/",
                self.admin_site.admin_view(self.revision_compare_view),
                name="{}_{}_compare".format(*info),
            ),
            path(
                "<path:object_id>/history/<int:version_id>/",
                self.admin_site.admin_view(self.revision_view),
                name="{}_{}_revision".format(*info),
            ),
            *super().get_urls(),
        ]

    def _article_for_history(self, request, object_id):
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404("No such article.")
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        return article

    def _context(self, request, article, **context):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "object": article,
            "original": article,
            "module_name": self.opts.verbose_name_plural.capitalize(),
            "may_restore": self.may_restore(request, article),
            **context,
        }

    def history_view(self, request, object_id, extra_context=None):
        article = self._article_for_history(request, object_id)
        versions = list(revisions.versions_for(article.pk).order_by("-pk")[: HISTORY_LENGTH + 1])
        described = revisions.describe(*(revisions.state_from_version(version) for version in versions))
        rows = []
        for index, version in enumerate(versions[:HISTORY_LENGTH]):
            older = described[index + 1] if index + 1 < len(described) else None
            rows.append(
                {
                    "version": version,
                    "revision": version.revision,
                    "number": revisions.version_number(version),
                    "previous": versions[index + 1] if older else None,
                    "changed": [label for label, text in described[index].items() if older and older[label] != text],
                }
            )
        context = self._context(
            request,
            article,
            title=f"History: {article}",
            rows=rows,
            truncated=len(versions) > HISTORY_LENGTH,
            **(extra_context or {}),
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)

    def _pick_version(self, article, value):
        """A stored Version of this article by id, or None for "current"; anything else is a 404."""
        if value in (None, "", "current"):
            return None
        if not str(value).isdigit():
            raise Http404("No such revision.")
        version = revisions.versions_for(article.pk).filter(pk=int(value)).first()
        if version is None:
            raise Http404("No such revision.")
        return version

    def _state(self, article, version):
        return revisions.state_from_db(article.pk) if version is None else revisions.state_from_version(version)

    def revision_compare_view(self, request, object_id):
        """Compare any two revisions (or one with the article as it is now): ?from=<id>&to=<id|current>."""
        article = self._article_for_history(request, object_id)
        old = self._pick_version(article, request.GET.get("from"))
        new = self._pick_version(article, request.GET.get("to"))
        changes = revisions.compare(self._state(article, old), self._state(article, new))
        context = self._context(
            request,
            article,
            title=f"Compare revisions: {article}",
            old=old,
            new=new,
            changes=changes,
        )
        return TemplateResponse(request, "admin/articles/article/revision_compare.html", context)

    def revision_view(self, request, object_id, version_id):
        """One revision against the article now; editors restore it from here (a POST)."""
        article = self._article_for_history(request, object_id)
        version = self._pick_version(article, str(version_id))
        if request.method == "POST":
            if not self.may_restore(request, article):
                raise PermissionDenied
            try:
                restored, notes = revisions.restore_version(version=version, by=request.user)
            except revisions.RestoreError as error:
                self.message_user(request, str(error), messages.ERROR)
                return redirect(request.path)
            when = date_format(timezone.localtime(version.revision.date_created), "j M Y, H:i")
            self.log_change(request, restored, f"Restored the revision of {when}.")
            self.message_user(
                request,
                "Restored. The restore is itself a new revision: it can be undone from the history.",
                messages.SUCCESS,
            )
            for note in notes:
                self.message_user(request, f"Not restored: {note}.", messages.WARNING)
            return redirect(reverse(f"{self.admin_site.name}:articles_article_change", args=[article.pk]))
        changes = revisions.compare(revisions.state_from_version(version), revisions.state_from_db(article.pk))
        context = self._context(
            request,
            article,
            title=f"Revision of {date_format(timezone.localtime(version.revision.date_created), 'j M Y, H:i')}",
            version=version,
            changes=changes,
        )
        return TemplateResponse(request, "admin/articles/article/revision_restore.html", context)
