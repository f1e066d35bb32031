"""Layer 4, client: the ``/v2/`` API of one registry host (paging, digests,
size limits, errors) and the content-addressed cache behind it.

May import ``_model``, ``_credentials`` and ``_transport``. Nothing above this
layer builds a ``/v2/`` URL.
"""
