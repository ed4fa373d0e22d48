"""From a conversation to a cited answer: reading questions (phrasebook + reader), the conversation's
record of facts with corrections, and the advisor that composes the graph, the rules and retrieval into
the typed answer."""
