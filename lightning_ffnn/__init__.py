"""lightning-ffnn: hand-written NumPy backprop inside PyTorch Lightning, checked against autograd.

Importing the package itself stays light and imports no torch, so the pure-NumPy labs can use
`course.datasets` without pulling PyTorch in. Import the torch-facing pieces from their modules:
`lightning_ffnn.bridge`, `lightning_ffnn.layers`, `lightning_ffnn.datamodules`, `lightning_ffnn.models`.
"""

__version__ = "0.1.0"
