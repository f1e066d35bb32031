"""Teaching and test infrastructure: a real local registry, self-signed TLS,
a deterministic image builder, the sample images, the scripted demo and a
throwaway podman store (``lab.podman``).

Public (``registrykit.lab``), like go-containerregistry's ``pkg/registry`` and
``pkg/v1/random``. It may import the core at module level; frames and plots
only inside functions.
"""
