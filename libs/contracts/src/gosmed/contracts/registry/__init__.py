"""Messages owned by the registry service."""
