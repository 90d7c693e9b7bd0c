"""gosmed edge."""
