"""Layer 7, operations: copy, pull, push, sync, tag, delete, retention, listing,
inspect, analysis, login and runtime detection over Stores.

Returns records and Result objects, never DataFrames. May import every layer
below (``_model`` … ``_stores``, ``_client``); never pandas, matplotlib or
ipywidgets.
"""
