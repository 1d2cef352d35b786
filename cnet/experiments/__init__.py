"""The papers cnet was founded to reproduce, as experiments that write every
number to CSV and the figures to PNG (``cnet experiment NAME``):

* ``zhang``: Zhang et al. (2017), networks fit random labels
  (:mod:`cnet.experiments.zhang`);
* ``arpit``: Arpit et al. (2017), real patterns are learned before noise
  (:mod:`cnet.experiments.arpit`);
* ``choromanska``: Choromanska et al. (2015), over many seeds larger
  networks' losses concentrate (:mod:`cnet.experiments.choromanska`).

Each module's ``run(train, test, quick=False, ...)`` takes ``((X, y),
(X_test, y_test))`` and returns its tables and a
:class:`~cnet.experiments._common.Claims` of the papers' qualitative
claims, checked on the numbers; ``quick=True`` runs a small version (a
minute or less) that CI runs.  :func:`run` loads the data set by name
first.
"""
from . import arpit, choromanska, zhang
from ._common import DATASETS, DataMissing, load

EXPERIMENTS = {"zhang": zhang, "arpit": arpit, "choromanska": choromanska}

__all__ = ["EXPERIMENTS", "DATASETS", "DataMissing", "run", "load"]


def run(name, dataset="mnist", quick=False, out=None, data_dir=None, seed=0, log=print,
        **kw):
    """Run experiment ``name`` on data set ``dataset`` (mnist,
    fashion-mnist, cifar10, or sample: the MNIST digits shipped with cnet);
    write its files into ``out``; return its results."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose one of "
                         f"{', '.join(EXPERIMENTS)}")
    if name == "choromanska" and dataset not in ("mnist", "sample", "fashion-mnist"):
        raise ValueError(f"the choromanska experiment downsamples 28x28 images (MNIST or "
                         f"Fashion-MNIST); got dataset {dataset!r}")
    train, test = load(dataset, data_dir)
    return EXPERIMENTS[name].run(train, test, quick=quick, seed=seed, out=out, log=log, **kw)
