"""contiflow benchmarks, every target in one command: engine throughput and per-step growth
against SpiffWorkflow, timer lateness and catch-up against APScheduler and a SpiffWorkflow
floor, worker scaling (2 processes vs 1 on PostgreSQL), inbox latency against a static file,
analysis against parsing and bare SimPy, and a peer comparison with bpmn-engine (Node.js).

Run ``.venv/bin/python -m bench`` (``--quick``, ``--only NAME[,NAME]``); see ``bench/README.md``.
This is measurement code, not engine code: it reads the wall clock with ``time.perf_counter``
and talks to contiflow through its public ``Engine`` API and its CLI (the timer and worker
suites also read the timers, instances and audit tables, read-only, to measure).
"""
