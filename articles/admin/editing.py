"""
Who else is editing an article: a soft lock (models.EditingSession).

Opening an article's form records the editor as editing it, and the form
says who else has it open and since when; static/js/editing.js pings while
the form stays open and says goodbye when it closes, so a session left
behind (a closed laptop) expires after EDITING_EXPIRY. It warns, it does not
block: the save-time version check (forms.ArticleAdminForm) still refuses a
save that would overwrite someone else's.
"""

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince

from ..models import EDITING_PING, EditingSession


def editor_name(user):
    return user.get_full_name() or user.get_username()


def others_editing(article_id, user, now=None):
    """The other people with the article's form open, as {name, since, since_iso, for}, first opened first."""
    now = now or timezone.now()
    sessions = (
        EditingSession.objects.active(now)
        .filter(article_id=article_id)
        .exclude(user=user)
        .select_related("user")
        .order_by("opened_at")
    )
    return [
        {
            "name": editor_name(session.user),
            "since": date_format(timezone.localtime(session.opened_at), "H:i"),
            "since_iso": session.opened_at.isoformat(),
            "for": timesince(session.opened_at, now, depth=1),
        }
        for session in sessions
    ]


class EditingSessionsMixin:
    """For ArticleAdmin: the change form records and shows who has the article open."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/editing/",
                self.admin_site.admin_view(self.editing_view),
                name="{}_{}_editing".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        article = self.get_object(request, unquote(object_id))
        if article is not None and self.has_change_permission(request, article):
            EditingSession.refresh(article_id=article.pk, user=request.user)
            info = self.opts.app_label, self.opts.model_name
            extra_context.update(
                others_editing=others_editing(article.pk, request.user),
                editing_url=reverse("{}:{}_{}_editing".format(self.admin_site.name, *info), args=[article.pk]),
                editing_ping_seconds=int(EDITING_PING.total_seconds()),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def editing_view(self, request, object_id):
        """POST while the form is open (a ping); POST closed=1 when it closes. Answers who else is editing."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404("No such article.")
        if not self.has_change_permission(request, article):
            raise PermissionDenied
        if request.POST.get("closed"):
            EditingSession.objects.filter(article=article, user=request.user).delete()
            return JsonResponse({"others": []})
        EditingSession.refresh(article_id=article.pk, user=request.user)
        return JsonResponse({"others": others_editing(article.pk, request.user)})
