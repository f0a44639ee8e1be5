"""Benchmarks (not tests): `make bench` runs them and prints figures beside their targets."""
