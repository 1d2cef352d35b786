"""A progress bar over the epochs of training, with the time left (ETA).

An epoch is one compiled call that never returns to Python until it is done,
so the bar advances once per epoch.  It is drawn on stderr and only when
stderr is a terminal (as pip and cargo do): logs and pipes get the per-epoch
lines alone, never a stream of carriage returns.  tqdm draws it when it is
installed (``pip install cnet-nn[progress]``); otherwise a one-line fallback
rewrites itself with ``\\r``:

    training: epoch 3/30 [00:04 elapsed, ETA 00:36] train cost 0.0512

Lines printed while the bar is up go through :meth:`EpochProgress.write`,
which clears the bar, prints the line and draws the bar again below it.
"""
import sys
import time

try:
    from tqdm import tqdm
except ImportError:  # optional dependency
    tqdm = None


def _clock(seconds):
    """mm:ss, or h:mm:ss from an hour up."""
    seconds = int(round(max(seconds, 0)))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _is_terminal(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


class EpochProgress:
    """A per-epoch progress bar on ``file`` (default stderr).

    Parameters
    ----------
    total : int
        Number of epochs.
    enabled : bool or None
        None draws the bar only when ``file`` is a terminal.
    file : text stream or None
        Where the bar goes; None means ``sys.stderr`` at construction time.
    use_tqdm : bool or None
        None uses tqdm when it is installed; False forces the fallback.
    desc : str
        Label in front of the bar.
    """

    def __init__(self, total, *, enabled=None, file=None, use_tqdm=None, desc="training"):
        self.total = int(total)
        self.file = sys.stderr if file is None else file
        self.enabled = _is_terminal(self.file) if enabled is None else bool(enabled)
        self.done = 0
        self.postfix = ""
        self.desc = desc
        self._t0 = time.perf_counter()
        self._width = 0
        self._bar = None
        if use_tqdm is None:
            use_tqdm = tqdm is not None
        if self.enabled and self.total > 0 and use_tqdm and tqdm is not None:
            self._bar = tqdm(total=self.total, desc=desc, unit="epoch", file=self.file,
                             leave=False, dynamic_ncols=True, mininterval=0, miniters=1,
                             bar_format="{desc}: {n_fmt}/{total_fmt} epochs |{bar}| "
                                        "[{elapsed} elapsed, ETA {remaining}]{postfix}")
        elif self.enabled and self.total > 0:
            self._draw()

    def line(self):
        """The fallback's text: epoch i/N, elapsed time, ETA, postfix."""
        elapsed = time.perf_counter() - self._t0
        if self.done:
            eta = _clock(elapsed / self.done * (self.total - self.done))
        else:
            eta = "--:--"
        text = (f"{self.desc}: epoch {self.done}/{self.total} "
                f"[{_clock(elapsed)} elapsed, ETA {eta}]")
        return text + (f" {self.postfix}" if self.postfix else "")

    def _draw(self):
        text = self.line()
        pad = max(0, self._width - len(text))
        self.file.write("\r" + text + " " * pad)
        self.file.flush()
        self._width = len(text)

    def _clear(self):
        if self._width:
            self.file.write("\r" + " " * self._width + "\r")
            self.file.flush()
            self._width = 0

    def update(self, postfix=""):
        """One more epoch done; ``postfix`` is shown after the times."""
        self.done += 1
        self.postfix = postfix
        if not self.enabled or self.total <= 0:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(postfix, refresh=False)
            self._bar.update(1)
        else:
            self._draw()

    def write(self, text, file=None):
        """Print a line (to stdout by default) without garbling the bar."""
        file = sys.stdout if file is None else file
        if self._bar is not None:
            self._bar.write(text, file=file)
            return
        if self.enabled and self._width:
            self._clear()
            print(text, file=file, flush=True)
            self._draw()
        else:
            print(text, file=file, flush=True)

    def close(self):
        """Remove the bar (the per-epoch lines stay)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled:
            self._clear()
        self.enabled = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class EpochPrinter:
    """``fit(verbose=True)``'s feedback, as a training callback: one line per
    epoch on stdout, and the progress bar advanced.  It goes first among the
    callbacks, and removes the bar when training ends, before the others'
    ``on_train_end`` print (EarlyStopping says why it stopped)."""

    def __init__(self, epochs, progress):
        self.epochs, self.progress = epochs, progress

    def __call__(self, net, epoch, row):
        msg = f"Epoch {epoch}/{self.epochs}: train cost {row['train_cost']:.4f}"
        if "val_cost" in row:
            msg += f", val cost {row['val_cost']:.4f}, val accuracy {row['val_accuracy']:.2%}"
        self.progress.write(msg + f" ({row['seconds']:.3f} s)")
        self.progress.update(f"val accuracy {row['val_accuracy']:.2%}" if "val_accuracy" in row
                             else f"train cost {row['train_cost']:.4f}")

    def on_train_end(self, net, history):
        self.progress.close()
