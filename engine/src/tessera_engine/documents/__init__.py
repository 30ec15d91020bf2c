"""Spec files: loading with limits, JSON pointers, source positions and ``$ref`` resolution."""

from .loader import Document, FileSource, Source, load_document, parse_document

__all__ = ["Document", "FileSource", "Source", "load_document", "parse_document"]
