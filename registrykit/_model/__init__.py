"""Layer 1, model: pure data and the rules about it (errors, references, hosts,
registries, media types, manifests, units).

Imports nothing from registrykit outside ``_model`` (and ``_version``); stdlib only.
Like regclient's ``types/``, it keeps the import graph a tree.
"""
