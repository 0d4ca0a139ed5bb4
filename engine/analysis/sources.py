"""Where a model to analyse comes from: a file path, or a stored definition key.

The CLI and the web app pass ``fetch`` (``Engine.diagram``) so this package never needs the
database itself.  A name that looks like a path but is missing is reported as a missing
file rather than looked up as a key, which gives the user the more useful error.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from engine.analysis.model import ModelAnalysis, analyse_bytes
from engine.errors import InvalidInput, NotFound
from engine.importer.safe_xml import DEFAULT_MAX_BYTES

Fetch = Callable[[str], tuple[str, bytes]]
_SUFFIXES = (".bpmn", ".xml", ".bpmn2")


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or os.sep in spec or spec.lower().endswith(_SUFFIXES)


def load_model(spec: str, fetch: Fetch | None = None, max_bytes: int = DEFAULT_MAX_BYTES
               ) -> ModelAnalysis:
    """Analyse the file ``spec``, or the stored definition with key ``spec`` (that process only)."""
    path = Path(spec)
    if path.is_file():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"{spec}: cannot read ({exc.strerror})") from None
        return analyse_bytes(data, spec, max_bytes=max_bytes)
    if path.exists():
        raise InvalidInput(f"{spec}: is a folder, not a model file")
    if _looks_like_path(spec) or fetch is None:
        raise InvalidInput(f"{spec}: no such file")
    try:
        name, data = fetch(spec)
    except NotFound:
        raise NotFound(f"{spec}: no such file or definition key (see `contiflow definitions`)") from None
    return analyse_bytes(data, f"{spec} ({name})", only=spec, max_bytes=max_bytes)
