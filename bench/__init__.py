"""Benchmark of the listings read paths (see bench/README.md)."""
