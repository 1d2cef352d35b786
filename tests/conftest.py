"""Shared fixtures.  Real MNIST is found the way the library finds it, through
CNET_DATA_DIR; tests that need it skip without it, unless CNET_REQUIRE_DATA=1
(as .ci/run sets), where a missing data set is a failure, not a skip."""
import os
from pathlib import Path

import pytest

# The tests of the compiled kernels' numerics (against cnet.reference, finite
# differences, torch.optim, each other across threads).  .ci/run runs the
# whole suite on the widest SIMD variant the CPU has, then these again on each
# other variant and, with the thread-policy tests, on a serial (no OpenMP)
# build: the code that differs between those builds is the kernels'.
KERNEL_TEST_FILES = {
    "test_kernels.py", "test_gradients.py", "test_determinism.py", "test_training.py",
    "test_optimizers.py", "test_regularizers.py", "test_nielsen_compat.py",
    "test_subnormals.py", "test_divergence.py", "test_sparse_inputs.py", "test_stack.py",
}
# Ctrl-C's polling lives in the epoch driver, the same code in every variant
# but compiled with and without OpenMP: these run again on the serial build.
THREAD_TEST_FILES = {"test_dask.py", "test_fork_and_thread_limits.py", "test_interrupt.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        name = item.path.name
        if name in KERNEL_TEST_FILES:
            item.add_marker(pytest.mark.kernels)
        if name in THREAD_TEST_FILES:
            item.add_marker(pytest.mark.threads)


MNIST_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
               "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def _missing_data(reason):
    if os.environ.get("CNET_REQUIRE_DATA") == "1":
        pytest.fail(f"{reason} (CNET_REQUIRE_DATA=1: real data must be present)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mnist_dir():
    """The real MNIST folder from CNET_DATA_DIR, or skip."""
    value = os.environ.get("CNET_DATA_DIR")
    if not value:
        _missing_data("CNET_DATA_DIR is not set; real-MNIST tests need the four MNIST IDX files")
    directory = Path(value)
    missing = [n for n in MNIST_NAMES
               if not (directory / n).is_file() and not (directory / f"{n}.gz").is_file()]
    if missing:
        _missing_data(f"CNET_DATA_DIR={value} lacks MNIST files: {', '.join(missing)}")
    return directory


@pytest.fixture(autouse=True)
def every_layer_threaded(request, monkeypatch):
    """Let small networks use as many threads as a test asks for: cnet would
    otherwise run them on one thread, and thread tests would prove nothing.
    Tests marked thread_policy keep cnet's own policy."""
    import cnet._threads
    if request.node.get_closest_marker("thread_policy"):
        return
    monkeypatch.setattr(cnet._threads, "MIN_FLOPS_PER_THREAD", 0)
