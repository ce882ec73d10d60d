"""The WSGI entry point: ``flask --app wsgi ...`` and ``gunicorn wsgi:app``."""

from grants import create_app

app = create_app()
