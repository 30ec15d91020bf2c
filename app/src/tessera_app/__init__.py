"""The Tessera service (``tessera-app``): everything that keeps state.

``create_app`` (``tessera_app.web``) builds the FastAPI application; nothing runs at import
time. The engine (``tessera_engine``) does the diffing and the registry reading; this package
mirrors the registry into a database and coordinates producers and consumers around it.
"""

__version__ = "0.1.0"
