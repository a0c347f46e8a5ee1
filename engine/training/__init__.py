"""Training a config: building it, the batch order, the trainer and its run loop, what it
records (history, layer statistics, flags) and the snapshots it hands out."""
