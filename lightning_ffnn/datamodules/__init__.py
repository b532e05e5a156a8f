"""LightningDataModules for every lab set (`base` explains how they hold and batch data).

One module a set: `ocr` (lab 3.2), `regression` (lab 3.3), `toy` (sine, XOR, flower), `mnist`
(MNIST, Fashion-MNIST). Configs name them as ``lightning_ffnn.datamodules.OCRDataModule`` etc.
"""

from .base import ArrayDataModule, EpochBatchSampler, IndexBatchDataset, Layout, Task
from .mnist import MNISTDataModule
from .ocr import OCRDataModule
from .regression import RegressionDataModule
from .toy import FlowerDataModule, SineDataModule, XORDataModule

__all__ = [
    "ArrayDataModule", "EpochBatchSampler", "IndexBatchDataset", "Layout", "Task",
    "OCRDataModule", "RegressionDataModule", "SineDataModule", "XORDataModule", "FlowerDataModule",
    "MNISTDataModule",
]
