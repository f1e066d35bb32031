"""Layer 6, storage: the ``Store`` protocol and its backends (a registry, an OCI
layout directory, a docker-archive tarball, images in memory), as regclient's ``scheme`` and
go-containerregistry's ``remote``/``layout``/``tarball``.

May import ``_model``, ``_credentials``, ``_transport``, ``_registry`` and ``_client``.
"""
