"""The management API (``/api/v1``): one router module per area (see ``web.ROUTER_MODULES``)."""
