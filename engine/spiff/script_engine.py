"""SpiffWorkflow's script engine, rewired: every evaluation goes through the sandbox and
every service task through the service registry.

The stock engine runs ``eval``/``exec`` with full builtins (remote code execution for anyone
who can upload a model); this one never does.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine import sandbox
from engine.errors import EngineError, ScriptError


class SandboxEnvironment(BasePythonScriptEngineEnvironment):
    """Task data in, restricted evaluation, plain data out."""

    def __init__(self, limits: sandbox.Limits | None = None):
        super().__init__({})
        self.limits = limits

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: dict[str, Any] | None = None) -> Any:
        variables = dict(external_context or {})
        variables.update(context)
        return sandbox.evaluate(expression, variables, limits=self.limits)

    def execute(self, script: str, context: dict[str, Any],
                external_context: dict[str, Any] | None = None) -> bool:
        if external_context:
            variables = dict(external_context)
            variables.update(context)
            sandbox.execute(script, variables, limits=self.limits)
            for name, value in variables.items():
                if name not in external_context or name in context:
                    context[name] = value
            for name in [n for n in context if n not in variables]:
                del context[name]
        else:
            sandbox.execute(script, context, limits=self.limits)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:  # pragma: no cover
        raise ScriptError("service calls go through the engine's service registry")


#: (task, service name, evaluated params) -> JSON-able result
ServiceCaller = Callable[[Any, str, dict[str, Any]], Any]


class SandboxScriptEngine(PythonScriptEngine):
    """PythonScriptEngine with the sandbox environment and registry-backed service calls."""

    def __init__(self, service_caller: ServiceCaller, limits: sandbox.Limits | None = None):
        super().__init__(environment=SandboxEnvironment(limits))
        self._service_caller = service_caller

    def validate(self, expression: str) -> None:
        """SpiffWorkflow's contract: a SyntaxError when the text does not parse (its DMN engine
        then reads a cell like ``< 250`` as ``input < 250``); then the sandbox's own refusals."""
        ast.parse(expression)
        sandbox.check(expression, "exec")

    def call_service(self, task: Any, **kwargs: Any) -> str:
        name = kwargs.get("operation_name")
        params = {k: (v.get("value") if isinstance(v, dict) else v)
                  for k, v in (kwargs.get("operation_params") or {}).items()}
        try:
            result = self._service_caller(task, str(name), params)
        except EngineError as exc:
            raise WorkflowTaskException(str(exc), task=task, exception=exc) from exc
        except Exception as exc:  # a service bug must become an incident, not a crash
            raise WorkflowTaskException(f"service '{name}' failed: {exc.__class__.__name__}: {exc}",
                                        task=task, exception=exc) from exc
        return json.dumps(result, default=str)

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        if isinstance(err, ScriptError):
            line = err.line or 0
            lines = script.splitlines()
            error_line = lines[line - 1] if 0 < line <= len(lines) else ""
            return WorkflowTaskException(str(err), task=task, exception=err,
                                         line_number=line, error_line=error_line)
        return super().create_task_exec_exception(task, script, err)
