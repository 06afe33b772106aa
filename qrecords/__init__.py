"""qrecords: controlled ISO 9001 forms filled from the command line and kept as records."""

__version__ = "0.1.0"
