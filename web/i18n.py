"""Languages of the web app: Simplified Chinese and English, one gettext catalogue
(``web/translations/<locale>/LC_MESSAGES/messages.po``) through Flask-Babel.

Templates write ``{{ _("Inbox") }}``; Python code uses ``flask_babel.gettext`` (or
``lazy_gettext`` at import time).  The locale is the signed-in user's preference when one is
set, else the browser's ``Accept-Language``, else English.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel

#: Babel locale names, first is the default
LOCALES = ("en", "zh_CN")


def select_locale() -> str:
    preferred = getattr(g, "preferred_locale", None)
    if preferred in LOCALES:
        return str(preferred)
    match = request.accept_languages.best_match(["en", "zh-CN", "zh", "zh-Hans", "zh-Hans-CN"])
    return "zh_CN" if match and match.startswith("zh") else "en"


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
