"""Everything that talks to GitHub: webhook ingress, payloads, the gateway, handlers."""
