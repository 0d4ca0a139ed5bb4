"""Lift SpiffWorkflow's silent task-iterator depth limit.

``BpmnTaskIterator`` stops descending at depth 1000, so a chain of more than 1000 tasks (or a
loop that ran 1000 times) stops finding READY tasks and the instance stalls without an error.
``tests/test_spiff_contracts.py`` fails if an upgrade changes the signature this relies on.
"""

from __future__ import annotations

import inspect

from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator

UNLIMITED_DEPTH = 10**9


def lift_iterator_depth_limit() -> None:
    for cls in (TaskIterator, BpmnTaskIterator):
        init = cls.__init__
        names = [name for name, param in inspect.signature(init).parameters.items()
                 if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)]
        defaults = list(init.__defaults__ or ())
        first_default = len(names) - len(defaults)
        position = names.index("max_depth") - first_default
        defaults[position] = UNLIMITED_DEPTH
        init.__defaults__ = tuple(defaults)


lift_iterator_depth_limit()
