"""Messages owned by the identity service."""
