"""Runs handed to other tools: ``torch_script`` writes a run as a standalone PyTorch
training script and the sidecar of its state."""
