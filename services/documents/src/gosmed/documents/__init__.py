"""gosmed documents service."""
