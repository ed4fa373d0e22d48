"""OSCAR: an advisor for choosing between open-source, commercial and in-house ML services, with its reasons.

The package is laid out as the pipeline (docs/architecture.md): `graph` (the ontology) -> `rulebook`
(rule files) -> `engine` (running them) ; `corpus` -> `retrieval` (passages and the index) ; `advisor`
(reading questions, the conversation, composing the answer) -> `model` (the typed answer and the values
it is made of) -> `render` (text, records, the chat's panels) ; `cli` (the `kb` command).
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("oscar-kb")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
