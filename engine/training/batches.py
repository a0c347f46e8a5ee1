"""The order in which a run visits its training samples, and where it is in an epoch.

Full-batch training uses every sample at each step. Mini-batches walk through a fresh
permutation each epoch, drawn from the run's own generator, so the same seed always
gives the same batches, and ``state``/``restore`` let a checkpoint resume mid-epoch.
"""

from __future__ import annotations

import copy

import numpy as np

from ..errors import EngineError


class BatchOrder:
    """Batches over X (n, n_in) and Y (n, n_out) for a batch size (0 or >= n: full batch)."""

    def __init__(self, X: np.ndarray, Y: np.ndarray, batch_size: int, seed: int):
        self.X, self.Y = X, Y
        self.set_batch_size(batch_size)
        self.rng = np.random.default_rng([seed, 1])
        self.pos = 0
        self.order = np.arange(X.shape[0])
        self._order_X, self._order_Y = X, Y

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    def set_batch_size(self, batch_size: int) -> None:
        """A new batch size; the current epoch goes on from its start."""
        n = self.X.shape[0]
        # at least 1: drawn data may have no samples yet (it cannot train then)
        self.batch_size = max(1, n if batch_size == 0 or batch_size >= n else batch_size)
        self.pos = 0

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n // self.batch_size)

    @property
    def steps_to_epoch_end(self) -> int:
        """Steps from here to the end of the current epoch (a whole epoch at its start)."""
        return -(-(self.n - self.pos) // self.batch_size)

    @property
    def progress(self) -> float:
        """How far into the current epoch, 0 <= progress < 1."""
        return self.pos / self.n if self.n else 0.0

    def ends_epoch(self) -> bool:
        """Whether the next batch is the epoch's last."""
        return self.pos + self.batch_size >= self.n

    def next(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """The next batch's inputs and targets, and whether it ended an epoch."""
        n, bs = self.n, self.batch_size
        if bs == n:
            return self.X, self.Y, True
        if self.pos == 0:
            self.order = self.rng.permutation(n)
            self._order_X, self._order_Y = self.X[self.order], self.Y[self.order]
        start = self.pos
        end = min(start + bs, n)
        self.pos = 0 if end == n else end
        return self._order_X[start:end], self._order_Y[start:end], end == n

    def peek(self) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """The next batch's inputs, targets and rows, without moving on: at an epoch's
        start the shuffle is drawn from a copy of the generator, exactly as ``next`` will."""
        n, bs = self.n, self.batch_size
        if bs == n:
            return self.X, self.Y, list(range(n))
        order = copy.deepcopy(self.rng).permutation(n) if self.pos == 0 else self.order
        rows = order[self.pos:min(self.pos + bs, n)]
        return self.X[rows], self.Y[rows], [int(r) for r in rows]

    def state(self) -> dict:
        """Plain values: ``pos``, the epoch's ``order`` (n,) and the generator's state."""
        return {"pos": self.pos, "order": self.order.copy(),
                "shuffle_state": copy.deepcopy(self.rng.bit_generator.state)}

    def restore(self, state: dict) -> None:
        """Go on from a ``state()``; raises EngineError if it does not fit this data."""
        pos = int(state.get("pos", 0))
        order = state.get("order")
        if order is not None and pos:
            order = np.asarray(order)
            if order.shape != (self.n,) or not 0 <= pos < self.n:
                raise EngineError(f"saved data order does not fit {self.n} training samples")
            self.order = order.astype(np.intp)
            self._order_X, self._order_Y = self.X[self.order], self.Y[self.order]
            self.pos = pos
        if state.get("shuffle_state"):
            self.rng.bit_generator.state = state["shuffle_state"]
