"""Benchmarks: `python -m bench` prints render times and cold start, measured in one run."""
