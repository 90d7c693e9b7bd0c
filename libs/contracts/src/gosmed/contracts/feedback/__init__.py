"""Messages owned by the feedback service."""
