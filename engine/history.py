"""A loss history whose size stays bounded however long the run goes."""

from __future__ import annotations

import numpy as np

from .snapshot import History, frozen_array


class LossHistory:
    """Keeps at most ``capacity`` points; when full, drops every other point and records
    half as often from then on, so the points stay evenly spread over the whole run."""

    def __init__(self, capacity: int = 512):
        self.capacity = capacity - capacity % 2
        self._data = np.empty((self.capacity, 4))  # step, epoch, train, test
        self._n = 0
        self._stride = 1
        self._seen = 0

    def add(self, step: int, epoch: float, train_loss: float, test_loss: float) -> None:
        """Offer one point; it is kept if it falls on the current stride."""
        offer = self._seen
        self._seen += 1
        if offer % self._stride:
            return
        if self._n == self.capacity:
            # kept points are offers 0, s, 2s, ...: keeping every other one leaves 0, 2s, 4s, ...
            self._data[: self._n // 2] = self._data[0 : self._n : 2]
            self._n //= 2
            self._stride *= 2
            if offer % self._stride:
                return
        self._data[self._n] = (step, epoch, train_loss, test_loss)
        self._n += 1

    def clear(self) -> None:
        self._n, self._stride, self._seen = 0, 1, 0

    def __len__(self) -> int:
        return self._n

    def frozen(self) -> History:
        """An immutable copy for a snapshot."""
        d = self._data[: self._n]
        return History(
            steps=frozen_array(d[:, 0], np.int64), epochs=frozen_array(d[:, 1]),
            train_loss=frozen_array(d[:, 2]), test_loss=frozen_array(d[:, 3]),
        )
