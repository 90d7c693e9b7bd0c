"""Messages owned by the documents service."""
