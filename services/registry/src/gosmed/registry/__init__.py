"""gosmed registry service."""
