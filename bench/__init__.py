"""Benchmarks: ``python -m bench [--quick] [--only NAME]`` (DESIGN §9, bench/README.md)."""
