"""contiflow engine: all behaviour, no Flask.  Start with ``engine.api.Engine``."""
