"""The base of every generated repository, and what works across repositories.

- ``_repository``: ``Repository``, the class generated repositories extend, assembled from one
  class per concern: ``_base`` (the state and checks every operation shares), ``_reads`` (get,
  queries, scans, counts, chosen fields), ``_writes`` (create, put, update, delete from a model),
  ``_key_updates`` (update by key from typed actions), ``_batches`` (get_many, batch_put,
  batch_delete), ``_actions`` (transaction actions in model terms);
- ``_model``: ``ModelInfo``, what the compiler tells the runtime about a model;
- ``_key_range``: the sort-key condition of an access pattern;
- ``_checks``: per model, the attribute names conditions may use and the key size limits;
- ``_transactions``: ``transact_write`` / ``transact_get`` across models and tables.
"""
