"""The installed package's WSGI entry point: ``gunicorn grants.wsgi:app`` and
``flask --app grants.wsgi grants ...``, from any directory (a checkout's wsgi.py is this one).
"""

import sys

from grants import create_app
from grants.config import ConfigError

try:
    app = create_app()
except ConfigError as error:  # one line for the operator, never a traceback
    sys.exit(f"configuration error: {error}")
