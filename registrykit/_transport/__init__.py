"""Layer 3, transport: httpx plumbing. Per-host settings (TLS, CA, certs.d,
insecure, mirrors), retries, the registry auth flow and the mapping of HTTP
answers to registrykit errors.

May import ``_model`` and ``_credentials``.
"""
