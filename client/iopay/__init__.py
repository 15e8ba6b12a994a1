"""iopay: Python SDK for the iopay settlement programs."""
__version__ = "0.1.0"
