"""(c) contiflow through its public API: ``Engine.start``, ``Engine.tasks``, ``Engine.complete``.

A step is what a responder's client does: complete one ready task, then list the instance's
ready tasks again (the inbox refresh that also tells whether the instance is finished).
"""

from __future__ import annotations

from typing import Any

from bench.modelgen import Model


class ContiflowDriver:
    def __init__(self, engine: Any, key: str, step_data: dict[str, Any], backend: str):
        self.engine, self.key, self.data = engine, key, step_data
        self.name = f"c_contiflow_{backend}"

    def start(self, data: dict[str, Any]) -> dict[str, Any]:
        iid = self.engine.start(self.key, data, actor="bench")
        return {"id": iid, "ready": self.engine.tasks(instance_id=iid)}

    def step(self, handle: dict[str, Any]) -> None:
        if not handle["ready"]:
            raise RuntimeError(f"instance {handle['id']} has no ready task but is not finished")
        self.engine.complete(handle["ready"][0].task_id, self.data, actor="bench")
        handle["ready"] = self.engine.tasks(instance_id=handle["id"])

    def done(self, handle: dict[str, Any]) -> bool:
        return not handle["ready"]

    def verify(self, handle: dict[str, Any]) -> None:
        status = self.engine.show(handle["id"]).status
        if status != "completed":
            raise RuntimeError(f"contiflow instance {handle['id']} ended as {status!r}, not completed")


def open_engine(database_url: str) -> Any:
    from engine.api import Engine
    from engine.config import Config
    return Engine(Config(database_url=database_url))


def import_model(engine: Any, model: Model) -> str:
    """Import through contiflow's importer; returns the definition key."""
    imported = engine.import_files([(model.path.name, model.read())])
    keys = [p.key for p in imported if p.executable]
    if model.process_id in keys:
        return model.process_id
    if not keys:
        raise RuntimeError(f"{model.path.name}: contiflow imported no executable process: {imported}")
    return keys[0]
