"""The base of every generated repository, and what works across repositories.

- ``_transactions``: ``transact_write`` / ``transact_get`` across models and tables, from the
  actions repositories hand out.
"""
