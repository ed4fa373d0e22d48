"""Rule files: parsed with line numbers, checked against the vocabulary and the ontology, stratified, and
explained (which condition failed); `examples` runs the examples written beside the rules. Nothing here
knows an engine (see kb.engine)."""
