"""Locale and time-zone selection; Japanese is the default, English is selectable."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, session
from flask_login import current_user

LOCALES = ("ja", "en")
JST = ZoneInfo("Asia/Tokyo")


def select_locale() -> str:
    """Pick the locale: explicit choice in the session, then the user's, then the default."""
    if not has_request_context():  # commands and jobs choose theirs with force_locale
        return current_app.config["DEFAULT_LOCALE"]
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    return current_app.config["DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["TIMEZONE"]


def to_jst(moment: dt.datetime) -> dt.datetime:
    """Show a stored UTC time in Japan time."""
    return moment.astimezone(JST)
