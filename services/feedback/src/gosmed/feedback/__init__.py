"""gosmed feedback service."""
