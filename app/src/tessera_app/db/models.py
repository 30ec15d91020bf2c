"""Every model module, imported so ``Base.metadata`` holds every table (for migrations and
for tests that create the schema directly)."""

from __future__ import annotations

from importlib import import_module

from .base import Base

MODEL_MODULES = (
    "registry_models",  # the registry mirror: teams, contracts, versions, consumers, installations
    "workflow_models",  # proposals, acknowledgements, holds, waivers
    "audit_models",  # the hash-chained audit log
    "queue_models",  # durable jobs
    "auth_models",  # API keys
    "github_models",  # webhook deliveries, check runs, sticky comments, proposal issues
    "mirror_models",  # what the registry mirror applied, and its open findings
)


def load_all() -> type[Base]:
    for name in MODEL_MODULES:
        import_module(f"{__package__}.{name}")
    return Base
