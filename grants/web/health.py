"""A health check for load balancers: no session, no write, just "can I reach the database"."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app
from werkzeug.wrappers import Response

from grants.db import get_session
from grants.web.access import public

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> Response:
    try:
        get_session().execute(sa.select(1))
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check: the database does not answer")
        return Response("database unavailable\n", status=503, mimetype="text/plain")
    return Response("ok\n", mimetype="text/plain")
