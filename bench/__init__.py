"""contiflow benchmarks: engine throughput and per-step growth, against raw SpiffWorkflow.

Run ``.venv/bin/python -m bench`` (``--quick`` for a smoke test); see ``bench/README.md``.
This is measurement code, not engine code: it reads the wall clock with ``time.perf_counter``
and talks to contiflow only through its public ``Engine`` API.
"""
