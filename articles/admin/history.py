"""
An article's revisions in the admin: django-reversion's VersionAdmin with what
the newsroom adds on top (articles/revisions.py does the work).
"""

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from reversion.admin import VersionAdmin

from .. import revisions

HISTORY_LENGTH = 50


def restore_outcome(article):
    """Whether and where the article is live, in plain words."""
    if article.is_live:
        return f"It is live at {article.get_absolute_url()}."
    if article.is_scheduled:
        when = date_format(timezone.localtime(article.published_at), "j M Y, H:i")
        return f"It is scheduled for {when}, at {article.get_absolute_url()}."
    return "It is a draft: readers cannot see it."


class ArticleHistoryAdmin(VersionAdmin):
    """
    VersionAdmin keeps a revision of every add and change in the admin, with
    the user and the change message, and recovers deleted articles. On top:

    - the history says what changed in each revision and compares any two;
    - a revision opens as a comparison with the article now, and editors
      restore it as a new revision (revisions.restore_version: the version
      counter goes on, what was deleted since is left out and reported),
      instead of VersionAdmin's revert form, which would save the article
      with its old version number;
    - an article saved outside the admin is recorded as it is when next opened,
      so that the next save can be compared with it.

    The subclass decides who may restore (may_restore) and recover (may_recover).
    """

    object_history_template = "admin/articles/article/object_history.html"

    def may_restore(self, request, article):
        return self.has_change_permission(request, article)

    def may_recover(self, request):
        return self.has_add_permission(request) and self.has_change_permission(request)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Before VersionAdmin opens the revision of this save: inside it, the
        # baseline would merge into the new revision.
        article = self.get_object(request, unquote(object_id))
        if article is not None and self.has_view_or_change_permission(request, article):
            revisions.ensure_baseline(article)
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        # VersionAdmin runs the whole list page in one revision (for list_editable, which
        # we do not use): the list actions' per-article revisions (articles/services.py)
        # would merge into it. Its template shows "Recover deleted" on has_change_permission.
        context = {"has_change_permission": self.may_recover(request), **(extra_context or {})}
        return admin.ModelAdmin.changelist_view(self, request, context)

    def recoverlist_view(self, request, extra_context=None):
        if not self.may_recover(request):
            raise PermissionDenied
        return super().recoverlist_view(request, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        if not self.may_recover(request):
            raise PermissionDenied
        return super().recover_view(request, version_id, extra_context)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/history/compare/",
                self.admin_site.admin_view(self.revision_compare_view),
                name="{}_{}_compare".format(*info),
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
        """VersionAdmin's history page, each revision with what it changed and a way to compare any two."""
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
        context = {
            "title": f"History: {article}",
            "rows": rows,
            "truncated": len(versions) > HISTORY_LENGTH,
            "may_restore": self.may_restore(request, article),
            **(extra_context or {}),
        }
        return super().history_view(request, object_id, context)

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

    def revision_view(self, request, object_id, version_id, extra_context=None):
        """One revision against the article now (VersionAdmin's URL); restored from here with a POST."""
        article = self._article_for_history(request, object_id)
        version = self._pick_version(article, str(version_id))
        if request.method == "POST":
            if not self.may_restore(request, article):
                raise PermissionDenied
            with_publication = request.POST.get("with_publication") == "yes"
            try:
                with transaction.atomic():
                    # What the restore replaces is kept too, even if it was saved outside the
                    # admin; in the restore's transaction, so a refused restore leaves no trace.
                    revisions.ensure_baseline(article)
                    restored, notes = revisions.restore_version(
                        version=version, by=request.user, with_publication=with_publication
                    )
            except revisions.RestoreError as error:
                self.message_user(request, str(error), messages.ERROR)
                return redirect(request.path)
            when = date_format(timezone.localtime(version.revision.date_created), "j M Y, H:i")
            self.log_change(request, restored, f"Restored the revision of {when}.")
            self.message_user(
                request,
                f"Restored. {restore_outcome(restored)} The restore is itself a new revision, and the article as "
                "it was before is kept in the history: it can be undone.",
                messages.SUCCESS,
            )
            for note in notes:
                self.message_user(request, f"Not restored: {note}.", messages.WARNING)
            return redirect(reverse(f"{self.admin_site.name}:articles_article_change", args=[article.pk]))
        changes = revisions.compare(revisions.state_from_version(version), revisions.state_from_db(article.pk))
        publication = revisions.publication_labels()
        context = self._context(
            request,
            article,
            title=f"Revision of {date_format(timezone.localtime(version.revision.date_created), 'j M Y, H:i')}",
            version=version,
            changes=changes,
            content_changes=[change for change in changes if change.label not in publication],
            publication_changes=[change for change in changes if change.label in publication],
            state_now=restore_outcome(article),
            **(extra_context or {}),
        )
        return TemplateResponse(request, "admin/articles/article/revision_restore.html", context)
