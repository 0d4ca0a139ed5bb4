"""The ``contiflow`` command line (DESIGN.md §3: a stable contract users' scripts rely on)."""
