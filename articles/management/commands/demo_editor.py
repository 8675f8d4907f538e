import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Create (or reset) the local demo editor account and print its credentials. "
        "Only for the local demo that `make run` serves: it refuses unless NEWSROOM_DEMO=1."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="editor")

    def handle(self, *args, username, **options):
        if os.environ.get("NEWSROOM_DEMO") != "1":
            raise CommandError(
                "This creates an all-powerful account with a printed password; it only runs in the "
                "local demo (NEWSROOM_DEMO=1, set by `make run`). Use `manage.py createsuperuser` elsewhere."
            )
        password = secrets.token_urlsafe(12)
        user, created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        self.stdout.write(
            self.style.SUCCESS(
                f"{'Created' if created else 'Reset'} the local editor account.\n"
                f"  Username: {username}\n"
                f"  Password: {password}"
            )
        )
