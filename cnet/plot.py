"""Pictures of training and of what a network learned (needs matplotlib).

* :func:`learning_curves`: cost and accuracy against epoch, from a History.
* :func:`first_layer_weights`: each first-layer neuron's incoming weights
  drawn as an image, what the neuron "looks for" (the book's chapter 1 and 6
  pictures).
* :func:`misclassified`: a grid of examples the network gets wrong, with the
  predicted and the true label.
* :func:`confusion_matrix`: counts of true label against predicted label.

Each returns a :class:`matplotlib.figure.Figure`, built without pyplot (no
global state, no window, works on a headless server); save it with
``fig.savefig("curves.png")``, or display it in a notebook as any figure.

matplotlib is an optional dependency: ``pip install cnet-nn[plot]``.
"""
import math

import numpy as np

__all__ = ["learning_curves", "first_layer_weights", "misclassified", "confusion_matrix",
           "confusion_counts"]

# Image shape of an input row, by input size: MNIST-like 28x28 grey, CIFAR-10
# 32x32 colour.  (3, 32, 32) is the CIFAR-10 binary's own order (the three
# colour planes one after another); pass shape=(32, 32, 3) for rows stored
# pixel by pixel.
_DEFAULT_SHAPES = {784: (28, 28), 3072: (3, 32, 32)}


def _figure(**kwargs):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("cnet.plot needs matplotlib, an optional dependency: "
                          "pip install cnet-nn[plot]  (or: pip install matplotlib)") from None
    return Figure(**kwargs)


def _image_shape(n_in, shape):
    """Validate shape against n_in; return (shape, channels_first)."""
    if shape is None:
        if n_in not in _DEFAULT_SHAPES:
            raise ValueError(f"inputs of {n_in} values are not a known image size; pass "
                             f"shape=(height, width) or (height, width, 3)")
        shape = _DEFAULT_SHAPES[n_in]
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (2, 3) or math.prod(shape) != n_in:
        raise ValueError(f"shape {shape} does not fit inputs of {n_in} values: it must be "
                         f"(height, width), (height, width, channels) or (channels, height, "
                         f"width) with {n_in} values in all")
    channels_first = len(shape) == 3 and shape[0] in (1, 3, 4) and shape[2] not in (1, 3, 4)
    return shape, channels_first


def _as_image(row, shape, channels_first):
    img = np.asarray(row, dtype=np.float64).reshape(shape)
    if channels_first:
        img = np.moveaxis(img, 0, -1)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    return img


def _grid(n):
    cols = max(1, math.ceil(math.sqrt(n)))
    return math.ceil(n / cols), cols


def _history_series(history, key):
    try:
        values = history[key]
    except (KeyError, TypeError):
        return None
    return [float(v) for v in values]


def learning_curves(history, title=None, val_label="validation"):
    """Cost and accuracy against epoch.

    Parameters
    ----------
    history : cnet.History or dict of lists
        As returned by ``Network.fit``: ``train_cost``, and when present
        ``val_cost``, ``val_accuracy`` (also ``train_accuracy``,
        ``test_accuracy``); ``epoch`` gives the x axis (default 1, 2, ...).
    title : str or None
    val_label : str
        Legend name of the ``val_*`` curves (the command line says "test").

    Returns
    -------
    matplotlib.figure.Figure
        The cost panel, and an accuracy panel (in %) when the history has
        an accuracy.
    """
    costs = [(key, label) for key, label in (("train_cost", "training"), ("val_cost", val_label))
             if _history_series(history, key)]
    accs = [(key, label) for key, label in (("train_accuracy", "training"),
                                            ("val_accuracy", val_label),
                                            ("test_accuracy", "test"))
            if _history_series(history, key)]
    if not costs and not accs:
        raise ValueError("history holds no epochs: expected lists under train_cost, val_cost "
                         "or val_accuracy (the History that Network.fit returns)")
    n = max(len(_history_series(history, k)) for k, _ in costs + accs)
    epochs = _history_series(history, "epoch") or list(range(1, n + 1))
    panels = [p for p in (costs, accs) if p]
    fig = _figure(figsize=(5.0 * len(panels), 3.6), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, series, is_acc in zip(axes, panels, [p is accs for p in panels]):
        for key, label in series:
            values = _history_series(history, key)
            if is_acc:
                values = [100.0 * v for v in values]
            ax.plot(epochs[:len(values)], values, marker="o", markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("accuracy (%)" if is_acc else "cost")
        ax.set_title("accuracy" if is_acc else "cost")
        ax.grid(True, alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    return fig


def first_layer_weights(net, shape=None, max_neurons=100, title=None):
    """Each first-layer neuron's incoming weights as an image: what it looks for.

    Parameters
    ----------
    net : cnet.Network
    shape : tuple or None
        Image shape of an input row: default (28, 28) for 784 inputs,
        (3, 32, 32) for 3072 (CIFAR-10's channel planes); or e.g. (32, 32, 3).
    max_neurons : int
        Draw at most the first this many neurons of the layer.
    title : str or None

    Returns
    -------
    matplotlib.figure.Figure
        One image per neuron.  Grey inputs: a diverging map centred on zero
        (red: positive weight, the neuron is excited by ink there; blue:
        negative), each image scaled to its own largest |weight|.  Colour
        inputs: each image's weights mapped linearly to [0, 1].
    """
    W = np.asarray(net.weights[0], dtype=np.float64)  # (n_hidden, n_in)
    shape, channels_first = _image_shape(W.shape[1], shape)
    k = min(W.shape[0], int(max_neurons))
    rows, cols = _grid(k)
    fig = _figure(figsize=(1.2 * cols + 0.6, 1.2 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for j, ax in enumerate(axes):
        ax.set_axis_off()
        if j >= k:
            continue
        img = _as_image(W[j], shape, channels_first)
        if img.ndim == 2:
            lim = float(np.abs(img).max()) or 1.0
            ax.imshow(img, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        else:
            lo, hi = float(img.min()), float(img.max())
            ax.imshow((img - lo) / (hi - lo) if hi > lo else np.zeros_like(img) + 0.5,
                      interpolation="nearest")
        ax.set_title(str(j), fontsize=7, pad=2)
    shown = f"first {k} of {W.shape[0]}" if k < W.shape[0] else f"{k}"
    grey = _as_image(W[0], shape, channels_first).ndim == 2
    key = "red: positive, blue: negative" if grey else "each scaled to its own range"
    fig.suptitle(title or f"What the {shown} first-layer neurons look for\n"
                          f"(incoming weights; {key})", fontsize=10)
    return fig


def misclassified(net, X, y, n=25, shape=None, class_names=None, title=None):
    """A grid of the first ``n`` examples the network gets wrong.

    Parameters
    ----------
    net : cnet.Network
    X : array (n_samples, n_in)
    y : array (n_samples,) of int labels
    n : int
        At most this many examples, in the order of X.
    shape : tuple or None
        Image shape of a row, as for :func:`first_layer_weights`.
    class_names : list of str or None
        Names of the labels (default: the numbers).
    title : str or None

    Returns
    -------
    matplotlib.figure.Figure
        Each image titled "pred P / true T".
    """
    X = np.asarray(X)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or len(X) != len(y):
        raise ValueError(f"X must be (n_samples, n_in) and y (n_samples,); got shapes "
                         f"{X.shape} and {y.shape}")
    pred = net.predict(X)
    wrong = np.flatnonzero(pred != y)[:max(0, int(n))]
    shape, channels_first = _image_shape(X.shape[1], shape)
    name = (lambda c: str(class_names[c])) if class_names is not None else str
    rows, cols = _grid(max(1, len(wrong)))
    fig = _figure(figsize=(1.4 * cols + 0.6, 1.5 * rows + 0.6), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes:
        ax.set_axis_off()
    if not len(wrong):
        axes[0].text(0.5, 0.5, "no misclassified examples", ha="center", va="center")
    for ax, i in zip(axes, wrong):
        img = _as_image(X[i], shape, channels_first)
        if img.ndim == 2:
            ax.imshow(img, cmap="gray_r", interpolation="nearest")
        else:
            ax.imshow(np.clip(img, 0, 1), interpolation="nearest")
        ax.set_title(f"pred {name(int(pred[i]))} / true {name(int(y[i]))}", fontsize=7, pad=2)
    total = int(np.sum(pred != y))
    fig.suptitle(title or f"Misclassified: {len(wrong)} shown of {total} in {len(y)}",
                 fontsize=10)
    return fig


def confusion_counts(y_pred, y_true, n_classes=None):
    """Matrix C (n_classes, n_classes): C[t, p] = number of examples of true
    label t predicted as p."""
    y_pred = np.asarray(y_pred).reshape(-1).astype(np.intp)
    y_true = np.asarray(y_true).reshape(-1).astype(np.intp)
    if y_pred.shape != y_true.shape:
        raise ValueError(f"predicted and true labels differ in number: {len(y_pred)} and "
                         f"{len(y_true)}")
    if n_classes is None:
        n_classes = int(max(y_pred.max(initial=0), y_true.max(initial=0))) + 1
    if y_pred.size and (min(y_pred.min(), y_true.min()) < 0
                        or max(y_pred.max(), y_true.max()) >= n_classes):
        raise ValueError(f"labels must be in [0, {n_classes})")
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def confusion_matrix(net_or_pred, X=None, y=None, class_names=None, title=None):
    """True label against predicted label.

    Parameters
    ----------
    net_or_pred : cnet.Network or array (n_samples,) of predicted labels
    X : array (n_samples, n_in)
        The inputs, with a network; must be None with predictions.
    y : array (n_samples,)
        The true labels.
    class_names : list of str or None
    title : str or None

    Returns
    -------
    matplotlib.figure.Figure
        Rows: true label; columns: predicted label; each cell shows its count.
    """
    if y is None:
        raise TypeError("confusion_matrix needs the true labels y")
    if hasattr(net_or_pred, "predict"):
        if X is None:
            raise TypeError("confusion_matrix(net, X, y) needs the inputs X")
        pred = net_or_pred.predict(X)
        n_classes = max(net_or_pred.sizes[-1], 2)
    else:
        if X is not None:
            raise TypeError("pass X only with a network; with predicted labels call "
                            "confusion_matrix(y_pred, y=y_true)")
        pred, n_classes = net_or_pred, None
    counts = confusion_counts(pred, y, n_classes)
    k = counts.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    size = max(4.0, 0.45 * k + 1.5)
    fig = _figure(figsize=(size + 1.0, size), layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(counts, cmap="Blues", interpolation="nearest")
    fig.colorbar(im, ax=ax, shrink=0.8, label="examples")
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    threshold = counts.max() / 2 if counts.size else 0
    for t in range(k):
        for p in range(k):
            ax.text(p, t, str(counts[t, p]), ha="center", va="center", fontsize=7,
                    color="white" if counts[t, p] > threshold else "black")
    accuracy = np.trace(counts) / max(1, counts.sum())
    ax.set_title(title or f"Confusion matrix (accuracy {accuracy:.2%})")
    return fig
