"""Plumbing every gosmed service reuses: settings, broker, RPC, store, telemetry, logging."""
