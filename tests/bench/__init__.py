"""Tests of the benchmark command."""
