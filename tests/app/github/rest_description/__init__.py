"""GitHub's REST description (the operations the App uses, API version 2022-11-28), vendored
from ``@octokit/openapi`` (MIT, ``LICENSE.octokit-openapi.txt``) by ``regenerate.py``."""
