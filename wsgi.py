"""The WSGI entry point: ``flask --app wsgi ...`` and ``gunicorn wsgi:app``."""

import sys

from grants import create_app
from grants.config import ConfigError

try:
    app = create_app()
except ConfigError as error:  # one line for the operator, never a traceback
    sys.exit(f"configuration error: {error}")
