"""Value types, immutable and serialisable, used by every stage: facts and their sources, conclusions and
the rules that drew them, problems (`path:line: message`), and the typed answer."""
