"""OSCAR knowledge base: ontology -> facts -> rules -> inference -> retrieval -> advisor -> justification -> export."""
