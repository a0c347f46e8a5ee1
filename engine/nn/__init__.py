"""The network itself: activations, losses, initializers, the dense network and its optimizers."""
