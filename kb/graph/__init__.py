"""The ontology: Turtle files checked by SHACL, entities and their facts, labels and lookup, and the
licence catalogue generated from package data. The only stage that imports rdflib and pyshacl (besides
PROV-O rendering)."""
