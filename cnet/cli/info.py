"""``cnet info``: the build (version, OpenMP, SIMD kernels, threads) and extras."""
import sys

from .._config import show_config


def add(sub):
    p = sub.add_parser("info", help="show the build: version, OpenMP, SIMD kernels, threads",
                       description="Show cnet's version, whether it was built with OpenMP, "
                                   "the SIMD kernel variant in use, the default thread count "
                                   "and the optional extras installed.")
    p.set_defaults(run=run, parser=p)


def run(args):
    show_config(file=sys.stdout)
    extras = []
    for module, use in (("matplotlib", "plots"), ("tqdm", "progress bars")):
        try:
            version = getattr(__import__(module), "__version__", "installed")
            extras.append(f"{module} {version} ({use})")
        except ImportError:
            extras.append(f"{module} not installed ({use}: pip install {module})")
    print(f"  extras:          {'; '.join(extras)}")
    return 0


