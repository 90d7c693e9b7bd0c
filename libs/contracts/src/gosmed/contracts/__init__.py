"""gosmed message contracts: every message that crosses the broker, shared types, topology."""
