"""Process analysis: structure and critical path, as-is/to-be comparison, simulation.

Pure functions over model bytes and plain data: no Flask, no database access of their own
(the CLI and the web app fetch stored models through ``Engine.diagram``).
"""

from engine.analysis.model import ModelAnalysis, analyse_bytes
from engine.analysis.structure import ProcessAnalysis

__all__ = ["ModelAnalysis", "ProcessAnalysis", "analyse_bytes"]
