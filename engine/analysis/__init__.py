"""Process analysis: structure and critical path, as-is/to-be comparison, simulation, observed
KPIs with threshold alerts, and the plan registers.

Pure functions over model bytes and plain data, plus read-only history queries: no Flask (the
CLI and the web app fetch stored models through ``Engine.diagram``).  The writers are
``register_store`` (the plan registers) and ``alert_notify`` (alert state and outbox messages).

    analyse_bytes(data) -> ModelAnalysis            .figures(): tasks, hand-offs, critical path…
    report.comparison(as_is, to_be, fetch, scenario, with_plots) -> the compare JSON (+ simulation, SVG)
    kpis.process_kpis(*history.load_history(engine.sessions)) -> observed KPIs per process
    kpi_alerts.check(engine, thresholds) / raise_alerts(engine, results)   (alert_notify: notify: ROLE)
    registers: read/write CSV, heat_map, target_progress
    register_store: the registers kept in the database (risks, targets; CRUD, CSV import/export)
"""

from engine.analysis.model import ModelAnalysis, analyse_bytes
from engine.analysis.structure import ProcessAnalysis

__all__ = ["ModelAnalysis", "ProcessAnalysis", "analyse_bytes"]
