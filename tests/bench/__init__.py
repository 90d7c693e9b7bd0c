"""Benchmarks that print their figures: `make bench` (python -m tests.bench [name ...])."""
