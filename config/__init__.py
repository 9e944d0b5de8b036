"""Project configuration package (also a Django app holding the ``options`` table)."""

from config.celery import app as celery_app

__all__ = ("celery_app",)
