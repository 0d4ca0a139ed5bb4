"""Flask web app (task inbox, incident view, JSON API) — built on top of ``engine``."""
