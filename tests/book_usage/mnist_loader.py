from cnet.book.mnist_loader import *  # noqa: F401,F403
