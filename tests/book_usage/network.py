from cnet.book.network import *  # noqa: F401,F403
