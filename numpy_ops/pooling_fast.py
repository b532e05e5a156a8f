"""The pooling ops the training paths run: `numpy_ops.pooling`'s, with every array laid out in memory as the
input is. A convolution's output (and its gradient) is channels-last in memory, (N, H, W, C) seen as
(N, C, H, W); copying a slice in NumPy's default C order, or starting the gradient as C-ordered zeros, would
make the next elementwise step and the convolution's backward transpose it. The numbers are the same
(tests/test_numpy_ops_pooling_dropout.py checks that, bit for bit; docs/speed.md says what it saves).

Classes keep the names of the ones they speed up, so a network prints the same.
"""

from __future__ import annotations

import numpy as np

from . import pooling as textbook


class _ChannelsLast:
    def _copy(self, v):
        return v.copy(order="K")  # keeps a channels-last slice channels-last

    def _zeros(self, shape, like):
        if like.transpose(0, 2, 3, 1).flags.c_contiguous:  # channels-last memory: zeros laid out the same way
            return np.zeros((shape[0], shape[2], shape[3], shape[1]), like.dtype).transpose(0, 3, 1, 2)
        return np.zeros(shape, like.dtype)


class MaxPool2dOp(_ChannelsLast, textbook.MaxPool2dOp):
    pass


class AvgPool2dOp(_ChannelsLast, textbook.AvgPool2dOp):
    pass
