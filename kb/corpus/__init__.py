"""The corpus: documents read from the analysts' folder (text, Markdown, HTML, PDF), page furniture
removed with a map back to the file, provenance from metadata, and passages cut from the cleaned text."""
