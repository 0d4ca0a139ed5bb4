"""Service-task registry: the only way a model has effects outside its own data.

The registry never imports a concrete service (notify, http…): the composition root,
``engine.api.default_registry``, registers them."""

from engine.services.registry import ServiceCall, ServiceRegistry, log_service

__all__ = ["ServiceCall", "ServiceRegistry", "log_service"]
