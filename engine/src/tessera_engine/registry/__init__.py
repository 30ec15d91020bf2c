"""The registry repository as code: declarations (``model``), loading and validation, published
versions, and the impact of a change on the declared consumers."""
