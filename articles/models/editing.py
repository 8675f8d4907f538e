from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

# An open article form pings every EDITING_PING; one not heard from for EDITING_EXPIRY has been closed.
EDITING_PING = timedelta(seconds=30)
EDITING_EXPIRY = timedelta(minutes=2)


class EditingSessionQuerySet(models.QuerySet):
    def active(self, now=None):
        """Forms still open: heard from within EDITING_EXPIRY."""
        return self.filter(seen_at__gt=(now or timezone.now()) - EDITING_EXPIRY)


class EditingSession(models.Model):
    """
    A soft lock: who has an article's form open, since when. It warns, it does
    not block: the version check at save time (ArticleAdminForm) still stops
    a save from overwriting another's. Not content: never in fixtures or revisions.
    """

    article = models.ForeignKey("Article", on_delete=models.CASCADE, related_name="editing_sessions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)

    objects = EditingSessionQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="editing_session_unique_user")]

    def __str__(self):
        return f"{self.user} editing “{self.article}”"

    @classmethod
    def refresh(cls, *, article_id, user, now=None):
        """Record that `user` has the form open now; a session that had expired starts again."""
        now = now or timezone.now()
        session, created = cls.objects.get_or_create(
            article_id=article_id, user=user, defaults={"opened_at": now, "seen_at": now}
        )
        if not created:
            expired = session.seen_at <= now - EDITING_EXPIRY
            session.seen_at = now
            if expired:
                session.opened_at = now
            session.save(update_fields=["seen_at", "opened_at"])
        return session
