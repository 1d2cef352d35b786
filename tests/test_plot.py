"""Pictures (cnet/plot.py), rendered headless with matplotlib's Agg backend.

Each figure is checked for what it shows (the plotted values, images, labels
and counts), not only that it renders.
"""
import io
import re
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

import cnet  # noqa: E402
from cnet import plot  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sample():
    (X, y), (Xt, yt) = cnet.datasets.load_sample(dtype="float32")
    return (X[:1000], y[:1000]), (Xt[:300], yt[:300])


@pytest.fixture(scope="module")
def trained(sample):
    (X, y), val = sample
    net = cnet.Network([784, 12, 10], dtype="float32", seed=0)
    history = net.fit(X, y, epochs=3, batch_size=10, eta=3.0, validation_data=val,
                      n_threads=1)
    return net, history


def png_bytes(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    data = buf.getvalue()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000
    return data


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


def test_learning_curves_plot_the_history(trained):
    _, history = trained
    fig = plot.learning_curves(history)
    assert isinstance(fig, Figure)
    cost_ax, acc_ax = fig.axes
    lines = {line.get_label(): line for line in cost_ax.get_lines()}
    assert set(lines) == {"training", "validation"}
    np.testing.assert_array_equal(lines["training"].get_xdata(), history["epoch"])
    np.testing.assert_array_equal(lines["training"].get_ydata(), history["train_cost"])
    np.testing.assert_array_equal(lines["validation"].get_ydata(), history["val_cost"])
    (acc_line,) = acc_ax.get_lines()
    np.testing.assert_allclose(acc_line.get_ydata(), 100 * np.array(history["val_accuracy"]))
    assert acc_ax.get_ylabel() == "accuracy (%)"
    png_bytes(fig)


def test_learning_curves_without_validation_have_one_panel():
    fig = plot.learning_curves({"train_cost": [0.5, 0.3, 0.2]})
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    png_bytes(fig)


def test_learning_curves_of_an_empty_history():
    with pytest.raises(ValueError, match="no epochs"):
        plot.learning_curves(cnet.History())


def test_first_layer_weights_show_each_neuron(trained):
    net, _ = trained
    fig = plot.first_layer_weights(net)
    axes = image_axes(fig)
    assert len(axes) == 12
    for j, ax in enumerate(axes):
        (img,) = ax.images
        np.testing.assert_allclose(img.get_array(), net.weights[0][j].reshape(28, 28), rtol=1e-6)
        lo, hi = img.get_clim()
        assert lo == -hi and hi == pytest.approx(np.abs(net.weights[0][j]).max(), rel=1e-6)
        assert ax.get_title() == str(j)
    png_bytes(fig)


def test_first_layer_weights_caps_the_count_and_handles_colour():
    net = cnet.Network([3072, 7, 10], seed=1)
    fig = plot.first_layer_weights(net, shape=(32, 32, 3), max_neurons=5)
    axes = image_axes(fig)
    assert len(axes) == 5
    rgb = axes[2].images[0].get_array()
    w = net.weights[0][2].reshape(32, 32, 3)
    np.testing.assert_allclose(rgb, (w - w.min()) / (w.max() - w.min()))
    # The CIFAR-10 binary's channel planes: (3, 32, 32) -> moved to (32, 32, 3).
    fig = plot.first_layer_weights(net, shape=(3, 32, 32), max_neurons=1)
    w = np.moveaxis(net.weights[0][0].reshape(3, 32, 32), 0, -1)
    np.testing.assert_allclose(image_axes(fig)[0].images[0].get_array(),
                               (w - w.min()) / (w.max() - w.min()))
    png_bytes(fig)


def test_first_layer_weights_need_a_shape_for_unknown_sizes():
    net = cnet.Network([50, 3, 2], seed=0)
    with pytest.raises(ValueError, match="shape"):
        plot.first_layer_weights(net)
    with pytest.raises(ValueError, match="does not fit"):
        plot.first_layer_weights(net, shape=(7, 7))
    assert len(image_axes(plot.first_layer_weights(net, shape=(5, 10)))) == 3


def test_misclassified_shows_wrong_predictions_with_both_labels(trained, sample):
    net, _ = trained
    _, (Xt, yt) = sample
    fig = plot.misclassified(net, Xt, yt, n=9)
    pred = net.predict(Xt)
    wrong = np.flatnonzero(pred != yt)
    assert len(wrong) >= 9
    axes = image_axes(fig)
    assert len(axes) == 9
    for ax, i in zip(axes, wrong[:9]):
        p, t = map(int, re.fullmatch(r"pred (\d+) / true (\d+)", ax.get_title()).groups())
        assert (p, t) == (pred[i], yt[i]) and p != t
        np.testing.assert_allclose(ax.images[0].get_array(), Xt[i].reshape(28, 28))
    assert f"of {len(wrong)} in {len(yt)}" in fig._suptitle.get_text()
    png_bytes(fig)


def test_misclassified_when_all_are_right(trained, sample):
    net, _ = trained
    _, (Xt, _) = sample
    fig = plot.misclassified(net, Xt, net.predict(Xt))
    assert image_axes(fig) == []
    assert any("no misclassified" in t.get_text() for ax in fig.axes for t in ax.texts)
    png_bytes(fig)


def cell_counts(fig):
    ax = next(ax for ax in fig.axes if ax.images and ax.texts)
    k = int(np.sqrt(len(ax.texts)))
    counts = np.zeros((k, k), dtype=int)
    for t in ax.texts:
        col, row = t.get_position()
        counts[int(row), int(col)] = int(t.get_text())
    return counts


def test_confusion_matrix_counts(trained, sample):
    net, _ = trained
    _, (Xt, yt) = sample
    pred = net.predict(Xt)
    expected = np.zeros((10, 10), dtype=int)
    for t, p in zip(yt, pred):
        expected[t, p] += 1
    fig = plot.confusion_matrix(net, Xt, yt)
    np.testing.assert_array_equal(cell_counts(fig), expected)
    assert f"{np.mean(pred == yt):.2%}" in fig.axes[0].get_title()
    png_bytes(fig)
    # From predicted labels instead of a network: the same matrix.
    np.testing.assert_array_equal(cell_counts(plot.confusion_matrix(pred, y=yt)), expected)


def test_confusion_matrix_argument_errors(trained, sample):
    net, _ = trained
    _, (Xt, yt) = sample
    with pytest.raises(TypeError, match="needs the inputs X"):
        plot.confusion_matrix(net, y=yt)
    with pytest.raises(TypeError, match="pass X only with a network"):
        plot.confusion_matrix(yt, Xt, yt)
    with pytest.raises(ValueError, match="differ in number"):
        plot.confusion_counts(yt[:5], yt)


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match=r"pip install cnet-nn\[plot\].*pip install matplotlib"):
        plot.learning_curves({"train_cost": [1.0]})
