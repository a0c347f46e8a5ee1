"""backprop-lab's tests (a package, so tests/tui never shadows the real tui package)."""
