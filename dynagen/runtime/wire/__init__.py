"""The wire format: how values, keys, expressions and cursors look on DynamoDB's wire (no I/O here).

- ``_types``: the wire-format attribute value (``{"S": ...}``), typed for generated code;
- ``_values``: one encoder and decoder per value type, as generated ``to_item``/``from_item`` call them;
- ``_keys``: key parts written so that key text order is value order, and split back;
- ``_json``: canonical JSON attributes, and the generic conversion of untyped maps and lists;
- ``_checks``: the one pass over an item before it is sent (what DynamoDB would refuse);
- ``_expressions``: conditions, updates, key conditions and projections with placeholders;
- ``_typed``: typed references to a model's fields, building those expressions;
- ``_cursor``: pagination cursors, byte-compatible with DynamORM;
- ``_streams``: DynamoDB Streams records as models.

The rules themselves are in docs/encoding.md.
"""
