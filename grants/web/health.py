"""A health check for load balancers: no session, no write, just "can I reach the database".

A load balancer reads the status; an operator asking for JSON (``Accept: application/json``)
also learns which version answers, e.g. to see that every server runs the upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from grants import version
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
        return _answer("database unavailable", 503)
    return _answer("ok", 200)


def _answer(status: str, code: int) -> Response:
    offered = request.accept_mimetypes.best_match(["text/plain", "application/json"])
    if offered == "application/json":
        response = jsonify(status=status, **version.describe())
        response.status_code = code
        return response
    return Response(f"{status}\n", status=code, mimetype="text/plain")
