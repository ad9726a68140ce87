"""Benchmarks, run on demand (`make bench` or `python -m bench.NAME`); results in bench/RESULTS.md."""
