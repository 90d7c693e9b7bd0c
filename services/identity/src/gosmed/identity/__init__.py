"""gosmed identity service."""
