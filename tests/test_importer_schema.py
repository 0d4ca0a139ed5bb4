"""The BPMN 2.0 XML Schema check: a deviation is a warning with its line, not a refusal."""

from __future__ import annotations

from pathlib import Path

from engine.importer import parse_deployment
from tests.test_importer import doc, flow

ROOT = Path(__file__).resolve().parent.parent
LINEAR = ('<bpmn:startEvent id="start"/>' + flow("f0", "start", "t") + '<bpmn:userTask id="t" name="Do"/>'
          + flow("f1", "t", "end") + '<bpmn:endEvent id="end"/>')


def _schema_warnings(files: list[tuple[str, bytes]]) -> list[str]:
    return [w for w in parse_deployment(files).warnings if "BPMN 2.0 schema" in w]


def test_valid_documents_get_no_schema_warning() -> None:
    bundled = sorted((ROOT / "runbooks").glob("*.bpmn")) + sorted((ROOT / "bpmn").glob("*.bpmn"))
    assert bundled
    for path in bundled:
        assert _schema_warnings([(path.name, path.read_bytes())]) == [], path.name
    assert _schema_warnings([("linear.bpmn", doc(LINEAR))]) == []


def test_a_deviation_is_reported_with_its_line_and_the_file_still_imports() -> None:
    # documentation must come first in a task; here it follows the incoming flow (line 6)
    body = ('<bpmn:startEvent id="start"/>\n' + flow("f0", "start", "t")
            + '\n<bpmn:userTask id="t" name="Do"><bpmn:incoming>f0</bpmn:incoming>'
              '<bpmn:documentation>late</bpmn:documentation></bpmn:userTask>\n'
            + flow("f1", "t", "end") + '<bpmn:endEvent id="end"/>')
    deployment = parse_deployment([("late.bpmn", doc(body))])
    assert [p.key for p in deployment.processes if p.spec is not None] == ["p"]       # still runnable
    [warning] = [w for w in deployment.warnings if "BPMN 2.0 schema" in w]
    assert warning.startswith("late.bpmn:6: not valid against the BPMN 2.0 schema: Element 'bpmn:documentation'")


def test_many_deviations_are_counted_after_the_first_three() -> None:
    tasks = "".join(f'<bpmn:task id="t{i}"><bpmn:incoming>x</bpmn:incoming><bpmn:documentation/></bpmn:task>'
                    for i in range(5))
    warnings = _schema_warnings([("many.bpmn", doc(tasks, attrs='isExecutable="false"'))])
    assert len(warnings) == 4 and warnings[-1] == "many.bpmn: 2 more deviations from the BPMN 2.0 schema"
