"""Benchmarks: ``python -m benchmarks [name ...]`` (``make bench``). Not tests: they time and report."""
