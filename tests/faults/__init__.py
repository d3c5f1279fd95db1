"""Fault tests: what the fault probe of issue 10 found, each reproduced against the fakes."""
