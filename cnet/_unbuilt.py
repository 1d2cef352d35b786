"""The message for ``import cnet`` when its compiled modules are missing.

The usual cause is importing cnet from its own source tree (Python finds the
folder ``cnet/`` in the working directory before the installed package), as
NumPy and scikit-learn explain in the same case; without this message the
first import of a missing module fails deep inside cnet, and looks like a
circular import.
"""
from pathlib import Path

DIST = "cnet-nn"  # the name on PyPI (pip install cnet-nn); import name cnet


def explain(init_file, exc):
    package = Path(init_file).resolve().parent
    tree = package.parent
    if (tree / "setup.py").is_file() and (tree / "src").is_dir():
        return (f"cnet is being imported from its source tree ({tree}), where its compiled "
                f"kernels are not built. Either leave this folder (cd elsewhere) to use the "
                f"installed cnet (pip install {DIST}, or pip install . from here), or build "
                f"the kernels in place: pip install -e . (or python setup.py build_ext "
                f"--inplace). ({exc})")
    return (f"cnet's compiled modules are missing from {package} ({exc}): the installation "
            f"is incomplete. Reinstall it: pip install --force-reinstall {DIST}")
