"""Restricted evaluation of every string a model asks us to run.

Scripts, gateway conditions, timer expressions, multi-instance and loop expressions and DMN
cells all go through here (RestrictedPython, curated globals, no imports, no dunder access,
no I/O, time and size limits).  The public surface is small on purpose:

    check(source, mode)            -> None or ScriptError   (import-time validation)
    evaluate(source, variables)    -> value                 (expressions)
    execute(source, variables)     -> None, updates variables (scripts)
"""

from engine.sandbox.api import Limits, check, evaluate, execute

__all__ = ["Limits", "check", "evaluate", "execute"]
