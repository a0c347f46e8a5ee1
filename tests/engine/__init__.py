"""Tests of the engine: network, data, training and analysis."""
