"""Hardened XML parsing: the only place uploaded bytes become an lxml tree.

No DTD is loaded, no entity is resolved, nothing is fetched from the network and huge trees
are refused; any DOCTYPE or entity declaration is rejected outright (XXE, billion laughs),
before and after parsing, so nothing a document declares is ever expanded or read.
"""

from __future__ import annotations

import re

from lxml import etree

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

_DECL = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class UnsafeXml(Exception):
    """The document was refused; ``line`` is where, when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False,
    )


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def parse_xml(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element:
    """Parse ``data`` safely and return its root element, or raise ``UnsafeXml``."""
    if len(data) > max_bytes:
        raise UnsafeXml(f"file too large: {len(data)} bytes, limit {max_bytes} bytes")
    if not data.strip():
        raise UnsafeXml("file is empty")
    # Also catch UTF-16 declarations by looking at the text with NULs removed.
    for candidate in (data, data.replace(b"\x00", b"")):
        found = _DECL.search(candidate)
        if found:
            kind = found.group(1).decode().upper()
            raise UnsafeXml(f"{kind} declarations are not allowed (DTDs and entities are refused "
                            "for security)", _line_at(candidate, found.start()))
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if isinstance(exc.lineno, int) and exc.lineno > 0 else None
        raise UnsafeXml(f"not well-formed XML: {exc.msg}", line) from None
    except (ValueError, etree.LxmlError) as exc:
        raise UnsafeXml(f"not well-formed XML: {exc}") from None
    if root is None:
        raise UnsafeXml("file has no XML root element")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXml("DOCTYPE declarations are not allowed (DTDs and entities are refused for "
                        "security)")
    for node in root.iter(etree.Entity):
        raise UnsafeXml(f"entity reference {node.text} is not allowed", node.sourceline)
    return root
