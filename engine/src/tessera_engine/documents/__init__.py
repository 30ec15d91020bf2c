"""Spec files: loading with limits, JSON pointers, source positions and ``$ref`` resolution."""

from .files import FileSource, OutsideRoot, spec_root
from .loader import Document, Source, load_document, parse_document

__all__ = [
    "Document",
    "FileSource",
    "OutsideRoot",
    "Source",
    "load_document",
    "parse_document",
    "spec_root",
]
