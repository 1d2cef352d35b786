"""The book's ``mnist_loader`` (kept here for ``from cnet import mnist_loader``):
the same module as :mod:`cnet.book.mnist_loader`."""
from .book.mnist_loader import load_data, load_data_wrapper, vectorized_result

__all__ = ["load_data", "load_data_wrapper", "vectorized_result"]
