"""What text the API accepts in parameters and body fields.

PostgreSQL refuses a NUL character in text, so a NUL that reached the database would be a 500;
it is refused with the other bad input (422) instead. One-line values (ids, filters, names,
path parameters) hold no control character at all; free text (a reason) may span lines but
holds no NUL.
"""

from __future__ import annotations

ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
"""A one-line value: no control characters."""

FREE_TEXT = r"^[^\x00]*$"
"""Free text: any characters but NUL."""

STATED_TEXT = r"^[^\x00]*[^\x00\s][^\x00]*$"
"""Free text that says something: not blank, and no NUL."""
