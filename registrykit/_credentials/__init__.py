"""Layer 2, credentials: where logins live (docker config.json, podman auth.json,
docker-credential-* helpers, cloud CLIs), the keychain that puts a client's own
logins in front of the stored ones, and the processes that read them.

May import ``_model``.
"""
