"""gridweave: one base library for a city's departments, and grid governance on top of it."""

__version__ = "0.1.0"
