"""Service-task registry: the only way a model has effects outside its own data."""

from engine.services.registry import ServiceCall, ServiceRegistry, default_registry

__all__ = ["ServiceCall", "ServiceRegistry", "default_registry"]
