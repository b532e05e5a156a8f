"""Student files the checker and grader tests write: one text per kind of submission, with the places a mistake
goes left as ``str.format`` fields."""

#: A class-style sigmoid op; ``{grad}`` is the expression its backward returns for dx.
SIGMOID = """
    import numpy as np

    class Sigmoid:
        def forward(self, x):
            s = 1 / (1 + np.exp(-x))
            return s, (s,)

        def backward(self, dout, cache):
            (s,) = cache
            return ({grad},)
"""
#: The right dx of `SIGMOID`.
SIGMOID_GRAD = "dout * s * (1 - s)"
