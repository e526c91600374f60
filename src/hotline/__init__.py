"""hotline: citizen-service hotline platform (contact center + case system)."""

__version__ = "0.1.0"
