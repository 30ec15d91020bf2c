"""Conformance: Tessera's verdicts measured against peer tools' own test corpora.

The corpora live in ``../shared/conformance`` (they are not ours to ship); this package only
reads them. ``python -m conformance`` prints agreement per corpus and fails when a target is
missed. Intentional deviations and their reasons are in ``docs/conformance.md``.
"""
