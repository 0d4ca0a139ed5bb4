"""The benchmark's BPMN models: the two throughput models and the generated chains."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
GENERATED_DIR = BENCH_DIR / "models" / "generated"


@dataclass(frozen=True)
class Model:
    short: str          # name in tables
    path: Path
    process_id: str     # the BPMN process id = contiflow's definition key
    about: str = ""
    step_data: dict[str, Any] = field(default_factory=dict)   # what each step submits

    def read(self) -> bytes:
        return self.path.read_bytes()


#: What a responder "fills in" at every step: small and constant, so that growth measures
#: the number of tasks in an instance, not an ever-growing data dict.
STEP_DATA: dict[str, Any] = {"done": True, "note": "bench"}

#: The order model's forms have required fields (contiflow validates them): every step
#: submits all of them, in every variant alike.
ORDER_FORM_DATA: dict[str, Any] = {
    "customer": "ACME", "product": "widget", "quantity": 3, "priority": "standard",
    "creditApproved": True, "financeNote": "ok", "inStock": True, "reservedQuantity": 3,
    "productionSlot": "2025-W10", "carrier": "dhl", "trackingNumber": "TRK123",
}

THROUGHPUT_MODELS = (
    Model("order_handling_as_is",
          REPO_DIR / "bpmn" / "order_handling_as_is.bpmn", "order_handling_as_is",
          "5 sequential user tasks; Camunda Modeler file (forms, candidate groups, lanes)",
          ORDER_FORM_DATA),
    Model("runbook_shaped",
          BENCH_DIR / "models" / "runbook_shaped.bpmn", "bench_runbook",
          "script -> parallel split -> 2 user tasks (one with a PT10M boundary timer) -> join -> user task",
          STEP_DATA),
)


def chain_xml(n: int) -> bytes:
    """Plain BPMN: start -> n userTasks in sequence -> end; process id ``bench_chain_<n>``."""
    parts = ['<bpmn:startEvent id="start"><bpmn:outgoing>f_0</bpmn:outgoing></bpmn:startEvent>']
    previous = "start"
    for i in range(1, n + 1):
        parts.append(f'<bpmn:sequenceFlow id="f_{i - 1}" sourceRef="{previous}" targetRef="step_{i}"/>')
        parts.append(f'<bpmn:userTask id="step_{i}" name="Step {i}"><bpmn:incoming>f_{i - 1}</bpmn:incoming>'
                     f'<bpmn:outgoing>f_{i}</bpmn:outgoing></bpmn:userTask>')
        previous = f"step_{i}"
    parts.append(f'<bpmn:sequenceFlow id="f_{n}" sourceRef="{previous}" targetRef="end"/>')
    parts.append(f'<bpmn:endEvent id="end"><bpmn:incoming>f_{n}</bpmn:incoming></bpmn:endEvent>')
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            f'id="Definitions_bench_chain_{n}" targetNamespace="http://bpmn.io/schema/bpmn" '
            'exporter="contiflow bench" exporterVersion="1">\n'
            f'<bpmn:process id="bench_chain_{n}" name="Bench chain of {n} user tasks" isExecutable="true">\n'
            + "\n".join(parts) + '\n</bpmn:process>\n</bpmn:definitions>\n').encode()


def chain_model(n: int) -> Model:
    """Write ``bench/models/generated/chain_<n>.bpmn`` (git-ignored) and describe it."""
    GENERATED_DIR.mkdir(parents=True, exist_ok=True)
    path = GENERATED_DIR / f"chain_{n}.bpmn"
    data = chain_xml(n)
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    return Model(f"chain_{n}", path, f"bench_chain_{n}", f"{n} sequential user tasks", STEP_DATA)
