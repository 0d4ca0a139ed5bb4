"""contiflow benchmarks: engine throughput and per-step growth against raw SpiffWorkflow, and timer
lateness and catch-up against APScheduler and a SpiffWorkflow floor.

Run ``.venv/bin/python -m bench`` (``--quick`` for a smoke test); see ``bench/README.md``.
This is measurement code, not engine code: it reads the wall clock with ``time.perf_counter``
and talks to contiflow only through its public ``Engine`` API (the timer section also runs a
``TimerService`` and reads the timers and audit tables, read-only, to measure).
"""
