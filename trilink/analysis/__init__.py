"""Analyses of trilink itself: benchmarks against peer libraries and evaluation metrics."""
