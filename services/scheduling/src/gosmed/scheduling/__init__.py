"""gosmed scheduling service."""
