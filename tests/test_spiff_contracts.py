"""Contract tests for the two places we reach into SpiffWorkflow's internals.  If an upgrade
moves what they rely on, these fail loudly instead of timers or long chains silently breaking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator

from engine.clock import ManualClock
from engine.spiff.limits import UNLIMITED_DEPTH
from engine.spiff.timer_bridge import clock_in_effect


def test_spiff_timer_module_reads_our_clock() -> None:
    clock = ManualClock(datetime(2030, 5, 1, 12, 0, tzinfo=UTC))
    with clock_in_effect(clock):
        assert spiff_timer.datetime.now(UTC) == clock.now()
        clock.advance(timedelta(minutes=10))
        assert spiff_timer.datetime.now(UTC) == datetime(2030, 5, 1, 12, 10, tzinfo=UTC)


def test_duration_timer_due_time_is_computed_from_our_clock() -> None:
    clock = ManualClock(datetime(2030, 5, 1, 12, 0, tzinfo=UTC))
    parsed = spiff_timer.TimerEventDefinition.parse_iso_duration("PT10M")
    with clock_in_effect(clock):
        delta = spiff_timer.TimerEventDefinition.get_timedelta_from_start(parsed)
        due = spiff_timer.datetime.now(UTC) + delta
    assert due == datetime(2030, 5, 1, 12, 10, tzinfo=UTC)


def test_naive_timer_dates_are_read_as_utc_not_server_zone() -> None:
    due = spiff_timer.TimerEventDefinition.get_datetime("2030-05-01T12:00:00")
    assert due == datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def test_task_iterator_depth_limit_is_lifted() -> None:
    defaults = BpmnTaskIterator.__init__.__defaults__
    assert defaults is not None and UNLIMITED_DEPTH in defaults
    assert 1000 not in defaults


def _imports(path):
    import ast

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_engine_never_imports_flask_or_web() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "engine"
    offenders = [f"{p.name}: {n}" for p in root.rglob("*.py") for n in _imports(p)
                 if n.split(".")[0] in ("flask", "web")]
    assert offenders == []


def test_only_the_fence_imports_spiffworkflow() -> None:
    """SpiffWorkflow stays behind engine/spiff and engine/importer."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "engine"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.relative_to(root).parts[0] not in ("spiff", "importer")
                 and any(n.split(".")[0] == "SpiffWorkflow" for n in _imports(p))]
    assert offenders == []


def test_flat_task_lookups_find_what_the_tree_walk_finds() -> None:
    """Our O(n) READY/WAITING look-ups agree with SpiffWorkflow's tree walk on a real model
    with parallel branches, a boundary timer and a subprocess."""
    from pathlib import Path

    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
    from SpiffWorkflow.util.task import TaskState

    from engine.spiff.limits import tree_get_tasks

    corpus = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "executable"
    model = corpus / "bpmn-js-examples" / "nested-subprocesses.bpmn"
    if not model.exists():
        import pytest
        pytest.skip("corpus not available")
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(model))
    [process_id] = parser.get_process_ids()
    wf = BpmnWorkflow(parser.get_spec(process_id), parser.get_subprocess_specs(process_id),
                      script_engine=PythonScriptEngine())
    for _ in range(10):
        wf.do_engine_steps()
        for state in (TaskState.READY, TaskState.WAITING, TaskState.READY | TaskState.WAITING):
            assert {t.id for t in wf.get_tasks(state=state)} == {t.id for t in tree_get_tasks(wf, state=state)}
        ready = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.manual]
        if not ready:
            break
        ready[0].run()


def test_dmn_engine_tells_operator_cells_by_the_script_engines_syntax_error() -> None:
    """DMNEngine.needs_eq reads ``< 250`` as ``input < 250`` only when ``validate`` raises
    SyntaxError; our sandboxed engine keeps that contract (and still refuses what the sandbox
    refuses)."""
    import inspect

    import pytest
    from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

    from engine.errors import ScriptError
    from engine.spiff.script_engine import SandboxScriptEngine

    assert "except SyntaxError" in inspect.getsource(DMNEngine.needs_eq)
    engine = SandboxScriptEngine(lambda task, name, params: None)
    with pytest.raises(SyntaxError):
        engine.validate("< 250")
    engine.validate("v < 250")
    with pytest.raises(ScriptError):
        engine.validate("().__class__")
