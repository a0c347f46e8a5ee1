"""Tests of the headless commands."""
