"""Alembic environment for contiflow's schema: ``env.py``, ``versions/``.

Driven programmatically by :mod:`engine.store.migrate` (no ``alembic.ini``); the connection
arrives in ``config.attributes["connection"]``.  New revision (developers)::

    python -c "from engine.store.migrate import new_revision; new_revision('add x', '0003_add_x', autogenerate=True)"
"""
