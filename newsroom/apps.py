from django.contrib.admin.apps import AdminConfig


class NewsroomAdminConfig(AdminConfig):
    """django.contrib.admin with the newsroom's site: two-factor logins and password reset (newsroom/admin.py)."""

    default_site = "newsroom.admin.NewsroomAdminSite"
