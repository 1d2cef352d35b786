"""cnet: fully-connected feed-forward neural networks trained by
back-propagation and mini-batch SGD, with the hot loops in typed Cython +
OpenMP.

    >>> import cnet
    >>> net = cnet.Network([784, 30, 10], seed=1)          # network.py defaults
    >>> history = net.fit(X, y, epochs=30, batch_size=10, eta=3.0)

Nielsen's book code runs unchanged on ``cnet.book`` (its network, network2
and mnist_loader modules, drop-in), and ``import cnet as network`` still works.
"""
__version__ = "0.1.0"

try:  # the compiled modules first: without them nothing below can work
    import importlib as _importlib
    _importlib.import_module(f"{__name__}._openmp_helpers")
except ImportError as _exc:
    from ._unbuilt import explain as _explain
    raise ImportError(_explain(__file__, _exc)) from None

from . import callbacks, datasets, optimizers, schedules
from ._config import config, show_config
from ._gradcheck import gradcheck
from ._openmp_helpers import openmp_enabled
from ._tuning import load as _load_tuning
from ._tuning import tune
from .costs import CrossEntropyCost, LogLikelihoodCost, QuadraticCost
from .network import Network
from .saving import ModelFileError, load, load_optimizer
from .stack import NetworkStack
from .training import DivergenceError, History, StopTraining

__all__ = [
    "Network", "History", "DivergenceError", "QuadraticCost", "CrossEntropyCost",
    "LogLikelihoodCost", "datasets", "show_config", "config", "openmp_enabled", "__version__",
]
_load_tuning()  # this CPU's settings of the knobs that change no result (cnet/_tuning.py)

__all__ += ["NetworkStack", "tune", "load", "load_optimizer", "ModelFileError", "StopTraining",
            "callbacks", "gradcheck", "optimizers", "schedules"]
