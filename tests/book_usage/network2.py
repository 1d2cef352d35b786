from cnet.book.network2 import *  # noqa: F401,F403
