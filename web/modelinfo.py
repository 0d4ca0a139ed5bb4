"""Read-only facts from a stored model's source that the Engine facade does not hand out yet:
each element's documentation (shown on the task page).  The source already passed the
importer's hardened parser; it is parsed here again with the same precautions."""

from __future__ import annotations

import threading
from collections import OrderedDict

from lxml import etree

from engine.api import Engine
from engine.errors import EngineError

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False,
                   "dtd_validation": False, "remove_comments": True}


class DocumentationCache:
    """(key, version) -> {element id: documentation}; small LRU, thread-safe."""

    def __init__(self, size: int = 64):
        self.size = size
        self._items: OrderedDict[tuple[str, int], dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, eng: Engine, key: str, version: int, element_id: str) -> str | None:
        with self._lock:
            docs = self._items.get((key, version))
            if docs is not None:
                self._items.move_to_end((key, version))
        if docs is None:
            try:
                _, source = eng.diagram(key, version)
            except EngineError:
                return None
            docs = documentation_by_id(source)
            with self._lock:
                self._items[(key, version)] = docs
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return docs.get(element_id)


def documentation_by_id(source: bytes) -> dict[str, str]:
    try:
        root = etree.fromstring(source, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError:
        return {}
    found: dict[str, str] = {}
    for doc in root.iter(f"{{{BPMN_NS}}}documentation"):
        parent = doc.getparent()
        element_id = parent.get("id") if parent is not None else None
        text = "".join(doc.itertext()).strip()
        if element_id and text:
            found.setdefault(element_id, text)
    return found
