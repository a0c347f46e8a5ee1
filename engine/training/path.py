"""The optimizer's path: the flat weights at the recorded steps of a run, bounded in memory.

Every step is recorded while the buffer has room. When it is full, every other row is
dropped and the stride doubles, so the record always spans the whole run (step 0 to now)
at evenly spaced steps: steps 0, s, 2s, ... for a stride s that is a power of two. The
buffer holds at most ``MAX_POINTS`` rows and at most ``MAX_BYTES`` of weights, so a big
model keeps fewer rows; a model so big that not even ``MIN_POINTS`` rows fit has no path
recorded (``frozen`` gives None), and nothing is copied for it.

Rows are only ever appended; dropping rows writes a new buffer. So a ``WeightPath`` that
views the first rows of a buffer never sees them change, and a snapshot can carry one
without copying the weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_POINTS = 1024  #: rows kept at most, for any model
MIN_POINTS = 4  #: fewer rows than this: no path is recorded
MAX_BYTES = 16 * 2**20  #: weights kept at most


@dataclass(frozen=True)
class WeightPath:
    """The recorded steps of a run, the flat weights at each, and the weights now
    (read-only arrays, in the network's layout ``Network.params`` and dtype)."""

    steps: np.ndarray  #: (k,) int64, ascending: the recorded steps
    params: np.ndarray  #: (k, n_params): the weights after each recorded step
    step: int  #: the step of ``current`` (the snapshot's own)
    current: np.ndarray  #: (n_params,): the weights after ``step``
    stride: int = 1  #: steps between two recorded rows

    def all_steps(self) -> np.ndarray:
        """The steps of every point of the path, (m,): the recorded ones, then ``step``
        when it was not recorded (m = k or k + 1)."""
        if self.steps.shape[0] and self.steps[-1] == self.step:
            return self.steps
        return np.append(self.steps, np.int64(self.step))

    def all_params(self) -> np.ndarray:
        """The weights at every point of ``all_steps()``, (m, n_params) (a new array when
        the current weights are added)."""
        if self.steps.shape[0] and self.steps[-1] == self.step:
            return self.params
        return np.vstack([self.params, self.current[None, :]])

    def __len__(self) -> int:
        return int(self.all_steps().shape[0])


def capacity(n_params: int, itemsize: int) -> int:
    """Rows a path of a model with ``n_params`` parameters keeps at most (0: none)."""
    rows = min(MAX_POINTS, MAX_BYTES // max(1, n_params * itemsize))
    return int(rows) if rows >= MIN_POINTS else 0


class PathRecorder:
    """Keeps the weights of every ``stride``-th step (see the module docstring)."""

    def __init__(self) -> None:
        self._params: np.ndarray | None = None
        self._steps: np.ndarray | None = None
        self._count = 0
        self.stride = 1

    def start(self, step: int, params: np.ndarray) -> None:
        """Begin a new record at ``step`` with weights ``params`` (n_params,)."""
        rows = capacity(params.shape[0], params.dtype.itemsize)
        if rows == 0:
            self._params = self._steps = None
            return
        self._params = np.empty((rows, params.shape[0]), params.dtype)
        self._steps = np.empty(rows, np.int64)
        self._count = 0
        self.stride = 1
        self._first = int(step)
        self._put(step, params)

    def add(self, step: int, params: np.ndarray) -> None:
        """Record the weights after ``step`` if the stride keeps it (cheap when not)."""
        if self._params is None or (step - self._first) % self.stride:
            return
        if self._count == self._params.shape[0]:  # full: keep every other row
            kept = (self._count + 1) // 2
            params_, steps_ = np.empty_like(self._params), np.empty_like(self._steps)
            params_[:kept] = self._params[: self._count: 2]  # new buffers: old views stay valid
            steps_[:kept] = self._steps[: self._count: 2]
            self._params, self._steps, self._count = params_, steps_, kept
            self.stride *= 2
            if (step - self._first) % self.stride:
                return
        self._put(step, params)

    def _put(self, step: int, params: np.ndarray) -> None:
        self._params[self._count] = params
        self._steps[self._count] = step
        self._count += 1

    def frozen(self, step: int, params: np.ndarray) -> WeightPath | None:
        """The record so far and the weights ``params`` (n_params,) of ``step`` (copied),
        without copying the recorded rows."""
        if self._params is None:
            return None
        steps, rows = self._steps[: self._count].view(), self._params[: self._count].view()
        steps.flags.writeable = False
        rows.flags.writeable = False
        current = np.array(params, copy=True)
        current.flags.writeable = False
        return WeightPath(steps, rows, int(step), current, self.stride)
