from __future__ import annotations
from typing import Any
from ..modes import Mode
class SwaggerAdapter:
    name = "swagger"
    default_mode = Mode.AUTO
    default_policy = "lenient"
    def accepts(self, data: Any) -> bool:
        return False
