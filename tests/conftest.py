"""Test settings shared by every test module."""

import os

# Small networks: one BLAS thread is far faster than two fighting over a loaded machine.
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")
