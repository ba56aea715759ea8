"""Chinese first, English on request: ?lang=en, remembered in the session."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale, lazy_gettext


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in languages:
        return str(remembered)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.add_template_filter(label)
    app.context_processor(lambda: {"lang": str(get_locale() or "zh_CN")})


# Codes stored in the database, shown to people through these labels.
LABELS = {
    "central": lazy_gettext("Central library"),
    "branch": lazy_gettext("Branch"),
    "village_bookshop": lazy_gettext("Village bookshop"),
    "worksite_reading_room": lazy_gettext("Worksite reading room"),
    "bookmobile": lazy_gettext("Bookmobile"),
    "community": lazy_gettext("Community point"),
    "school": lazy_gettext("School point"),
    "other": lazy_gettext("Other point"),
    "network_admin": lazy_gettext("network administrator"),
    "branch_librarian": lazy_gettext("branch librarian"),
    "cataloguer": lazy_gettext("cataloguer"),
    "terminal": lazy_gettext("terminal"),
    "available": lazy_gettext("on the shelf"),
    "on_loan": lazy_gettext("on loan"),
    "in_transit": lazy_gettext("in transit"),
    "on_hold_shelf": lazy_gettext("on the hold shelf"),
    "in_processing": lazy_gettext("in processing"),
    "missing": lazy_gettext("missing"),
    "damaged": lazy_gettext("damaged"),
    "lost": lazy_gettext("lost"),
    "withdrawn": lazy_gettext("withdrawn"),
    # holds
    "waiting": lazy_gettext("waiting in the queue"),
    "targeted": lazy_gettext("being fetched from a shelf"),
    "ready": lazy_gettext("ready for pickup"),
    "filled": lazy_gettext("collected"),
    "cancelled": lazy_gettext("cancelled"),
    "expired": lazy_gettext("not collected in time"),
    # fines and transits
    "overdue": lazy_gettext("overdue fine"),
    "manual": lazy_gettext("other charge"),
    "hold": lazy_gettext("for a hold"),
    "home": lazy_gettext("back home"),
    "rotation": lazy_gettext("rotation"),
    # patrons
    "active": lazy_gettext("valid"),
    "blocked": lazy_gettext("blocked"),
    "card_lost": lazy_gettext("card reported lost"),
    "closed": lazy_gettext("closed"),
    "adult": lazy_gettext("adult"),
    "child": lazy_gettext("child"),
    "senior": lazy_gettext("senior"),
    "student": lazy_gettext("student"),
    "staff": lazy_gettext("staff"),
    "institution": lazy_gettext("collective card"),
    # figures
    "attribution_point": lazy_gettext("where they happened"),
    "attribution_copy_home": lazy_gettext("by the copy's home point"),
    "attribution_patron_home": lazy_gettext("by the reader's home point"),
    "by_point": lazy_gettext("by point"),
    "by_branch": lazy_gettext("by branch group"),
    "by_region": lazy_gettext("by region"),
    "batch_planned": lazy_gettext("planned"),
    "batch_sent": lazy_gettext("sent"),
    "batch_recalled": lazy_gettext("recalled"),
    "batch_closed": lazy_gettext("closed"),
}


def label(code: str) -> str:
    """The reader's-language label of a stored code (the code itself if unknown)."""
    return str(LABELS.get(code, code))
