"""The ``backprop-lab`` program: the app (``tui``), the headless commands (``cli``) and the
benchmark (``bench``) behind one command, on top of the engine (``engine``)."""
