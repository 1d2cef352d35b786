"""Drop-in modules for the code of Nielsen's "Neural Networks and Deep
Learning": the book's ``network.py``, ``network2.py`` and ``mnist_loader.py``
with their exact signatures, defaults and module-level names, trained by
cnet's compiled epoch::

    from cnet.book import network, network2, mnist_loader

or, next to the book's scripts, a one-line ``network2.py`` holding
``from cnet.book.network2 import *`` (and the same for ``network.py`` and
``mnist_loader.py``), so that the scripts run unchanged.

Randomness comes from where the book takes it: the initial weights from
NumPy's global generator (``np.random.randn``, in the book's order) and the
shuffling from Python's ``random.shuffle``, so that after ``random.seed(s)``
and ``np.random.seed(s)`` a run follows the book's code run with the same
seeds and data (the same weights up to float rounding).
"""
