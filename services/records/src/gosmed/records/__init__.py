"""gosmed records service."""
