"""Layer 2, credentials: where logins live (docker config.json, podman auth.json,
docker-credential-* helpers, cloud CLIs) and the processes that read them.

May import ``_model``.
"""
