"""carebinder: a local-first binder for a cancer second-opinion visit."""

__version__ = "0.1.0"
