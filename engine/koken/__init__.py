from koken.base.version import __version__
