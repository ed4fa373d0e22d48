"""A whole stack at once: SBOMs and dependency files read (intake) and reviewed component by component."""
