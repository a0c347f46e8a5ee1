"""The record of a run: every epoch's losses and every step's batch loss, in bounded memory.

A series keeps at most ``capacity`` buckets. While there is room, each bucket holds one
point. When the buckets run out, neighbours are merged in pairs and each bucket holds
twice as many points from then on, so the buckets stay evenly spread over the whole run.
A bucket keeps the last value of its points and their minimum and maximum, so a spike or
a bounce survives however long the run (min-max decimation, as plotting tools do).
"""

from __future__ import annotations

import math

import numpy as np

from .snapshot import BatchHistory, History, frozen_array

#: the channels of the epoch series, in order
EPOCH_CHANNELS = ("train_loss", "test_loss", "train_accuracy", "test_accuracy")


class MinMaxSeries:
    """Points (step, epoch, values...) in at most ``capacity`` min/max buckets."""

    def __init__(self, capacity: int, channels: int):
        self.capacity = max(2, capacity - capacity % 2)
        self.channels = channels
        self._at = np.empty((self.capacity, 2))  # step, epoch of each bucket's last point
        self._last = np.empty((self.capacity, channels))
        self._low = np.empty((self.capacity, channels))
        self._high = np.empty((self.capacity, channels))
        self.clear()

    def clear(self) -> None:
        self._n = 0  #: buckets in use (the last may be partly filled)
        self._size = 1  #: points per full bucket
        self._fill = 0  #: points in the last bucket
        self.points = 0  #: points offered since the last clear

    def __len__(self) -> int:
        return self._n

    @property
    def bucket_size(self) -> int:
        """How many points each full bucket stands for."""
        return self._size

    def add(self, step: int, epoch: float, values: tuple[float, ...]) -> None:
        """Record one point; ``values`` has one number per channel (NaN: none)."""
        self.points += 1
        if self._n == 0 or self._fill >= self._size:
            if self._n == self.capacity:
                self._halve()
            i = self._n
            self._n += 1
            self._fill = 1
            self._at[i] = (step, epoch)
            self._last[i] = values
            self._low[i] = values
            self._high[i] = values
            return
        i = self._n - 1
        self._fill += 1
        self._at[i] = (step, epoch)
        last, low, high = self._last[i], self._low[i], self._high[i]
        for c, v in enumerate(values):
            last[c] = v
            if v < low[c] or math.isnan(low[c]):
                low[c] = v
            if v > high[c] or math.isnan(high[c]):
                high[c] = v

    def _halve(self) -> None:
        """Merge neighbouring buckets in pairs (every bucket is full when this runs)."""
        half = self._n // 2
        self._at[:half] = self._at[1:self._n:2]
        self._last[:half] = self._last[1:self._n:2]
        with np.errstate(invalid="ignore"):
            self._low[:half] = np.fmin(self._low[0:self._n:2], self._low[1:self._n:2])
            self._high[:half] = np.fmax(self._high[0:self._n:2], self._high[1:self._n:2])
        self._n = half
        self._size *= 2
        self._fill = self._size

    def arrays(self) -> tuple[np.ndarray, ...]:
        """Read-only copies: steps (n,), epochs (n,), last, low, high (n, channels)."""
        n = self._n
        return (frozen_array(self._at[:n, 0], np.int64), frozen_array(self._at[:n, 1]),
                frozen_array(self._last[:n]), frozen_array(self._low[:n]),
                frozen_array(self._high[:n]))


class LossHistory:
    """Every epoch end's train/test loss and accuracy, and every step's batch loss."""

    def __init__(self, capacity: int = 512):
        self.capacity = capacity
        self.epochs = MinMaxSeries(capacity, len(EPOCH_CHANNELS))
        self.batches = MinMaxSeries(capacity, 1)

    def add_epoch(self, step: int, epoch: float, train_loss: float, test_loss: float,
                  train_accuracy: float | None = None,
                  test_accuracy: float | None = None) -> None:
        """Record the evaluation at an epoch's end (and at step 0, before training)."""
        self.epochs.add(step, epoch, (train_loss, test_loss, _nan(train_accuracy),
                                      _nan(test_accuracy)))

    def add_batch(self, step: int, epoch: float, loss: float) -> None:
        """Record the loss of one step's mini-batch."""
        self.batches.add(step, epoch, (loss,))

    def clear(self) -> None:
        self.epochs.clear()
        self.batches.clear()

    def __len__(self) -> int:
        return len(self.epochs)

    def frozen(self) -> History:
        """An immutable copy for a snapshot."""
        steps, epochs, last, low, high = self.epochs.arrays()
        b_steps, b_epochs, b_last, b_low, b_high = self.batches.arrays()
        batch = BatchHistory(steps=b_steps, epochs=b_epochs, loss=b_last[:, 0],
                             low=b_low[:, 0], high=b_high[:, 0],
                             bucket=self.batches.bucket_size, points=self.batches.points)
        return History(steps=steps, epochs=epochs,
                       train_loss=last[:, 0], test_loss=last[:, 1],
                       train_low=low[:, 0], train_high=high[:, 0],
                       test_low=low[:, 1], test_high=high[:, 1],
                       train_accuracy=last[:, 2], test_accuracy=last[:, 3],
                       bucket=self.epochs.bucket_size, points=self.epochs.points, batch=batch)


def _nan(value: float | None) -> float:
    return math.nan if value is None else value
