"""A checkout's entry point: ``flask --app wsgi ...`` and ``gunicorn wsgi:app`` from its root.

An installed package has no such file: it runs as ``grants.wsgi`` (see docs/deployment.md).
"""

from grants.wsgi import app

__all__ = ["app"]
