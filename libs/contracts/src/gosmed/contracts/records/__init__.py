"""Messages owned by the records service."""
