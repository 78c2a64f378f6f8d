"""dynagen's benchmarks against its peers, measured side by side in one run.

    python -m benchmarks                 # full run (a few minutes)
    python -m benchmarks --quick         # CI-sized run (well under a minute)
    python -m benchmarks --only serialization

Benchmarks (each prints a table of medians and the ratio of every peer to dynagen):

- ``serialization``: generated ``to_item()`` / ``from_item()`` vs boto3's TypeSerializer /
  TypeDeserializer, an equivalent PynamoDB model and hand-written code (the floor).
- ``operations``: repository get / create / 100-item query on both transports vs the same call on a
  botocore client, boto3's Table resource and PynamoDB, against an instant stub server and DynamoDB Local.
- ``lean_transport``: the two transports alone (no repository) per GetItem / PutItem against the stub,
  and the lean transport's JSON codec next to bare ``json``.
- ``cold_start``: fresh processes: import (runtime alone, generated module alone, both), first client,
  first response (whole process and in-process), peak RSS; warm start.
- ``compile``: compile + check of a generated 50-model schema set.

Numbers are noisy on shared machines: every benchmark interleaves its contenders within each round
and reports medians over rounds. Targets are reported as PASS/MISS; nothing fails on a miss.
"""
