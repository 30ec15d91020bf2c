"""Process-wide settings for the engine tests."""

from __future__ import annotations

import sys

# The engine raises the recursion limit to 20,000 the first time it runs. Raising it up front
# keeps Hypothesis from warning that the limit changed inside a test (warnings are errors here).
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
