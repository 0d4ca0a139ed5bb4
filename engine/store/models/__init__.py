"""The database tables, one module per area; importing this package registers every table on
``Base.metadata`` (migrations and ``create_all`` see the whole schema).

New areas add a module here and one import line below — never a table in another area's module.
"""

from engine.store.models.core import *  # noqa: F401,F403  (the core tables and Base)
