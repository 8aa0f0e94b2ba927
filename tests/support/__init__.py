"""Helpers shared by the test suite and the benchmarks: repository builders and real servers."""
