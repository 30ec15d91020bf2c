"""Behavioural tests of the engine (a package, so its module names cannot clash with other
test folders' ``test_cli.py`` and friends)."""
