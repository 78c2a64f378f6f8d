"""Table definitions (CreateTable requests) from the intermediate model.

The same dicts are rendered into generated modules (``TABLES``) and used by tests and
``dynagen create-tables`` to create tables, so there is one source of truth. ``dynagen tables``
prints them split into the API requests they stand for (``table_requests``): CreateTable refuses a
``TimeToLiveSpecification``, which is an UpdateTimeToLive request of its own.
"""

from __future__ import annotations

import json
from typing import Any

from dynagen.compiler._ir import Index, Table

__all__ = ["cloudformation", "create_table_request", "table_requests", "terraform"]


def create_table_request(table: Table) -> dict[str, Any]:
    attributes: dict[str, str] = {table.partition_key: table.partition_type}
    key_schema = [{"AttributeName": table.partition_key, "KeyType": "HASH"}]
    if table.sort_key and table.sort_type:
        attributes[table.sort_key] = table.sort_type
        key_schema.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
    request: dict[str, Any] = {"TableName": table.name}
    gsis: list[dict[str, Any]] = []
    lsis: list[dict[str, Any]] = []
    for index in table.indexes:
        attributes.setdefault(index.partition_key, index.partition_type)
        if index.sort_key and index.sort_type:
            attributes.setdefault(index.sort_key, index.sort_type)
        (gsis if index.kind == "GSI" else lsis).append(_index(index, table))
    request["AttributeDefinitions"] = [{"AttributeName": k, "AttributeType": v} for k, v in sorted(attributes.items())]
    request["KeySchema"] = key_schema
    if table.billing == "PROVISIONED":
        request["BillingMode"] = "PROVISIONED"
        request["ProvisionedThroughput"] = {"ReadCapacityUnits": table.read_capacity, "WriteCapacityUnits": table.write_capacity}
    else:
        request["BillingMode"] = "PAY_PER_REQUEST"
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    if lsis:
        request["LocalSecondaryIndexes"] = lsis
    if table.stream:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": table.stream}
    if table.ttl_attribute:
        request["TimeToLiveSpecification"] = {"AttributeName": table.ttl_attribute, "Enabled": True}
    return request


def table_requests(table: Table) -> dict[str, dict[str, Any]]:
    """The requests that set a table up, by DynamoDB API operation, each exactly as that operation takes it.

    ``{"CreateTable": {...}}``, plus ``"UpdateTimeToLive": {"TableName": ..., "TimeToLiveSpecification": ...}``
    when the table has a TTL attribute (sent once the table is ACTIVE).
    """
    create = create_table_request(table)
    ttl = create.pop("TimeToLiveSpecification", None)
    requests: dict[str, dict[str, Any]] = {"CreateTable": create}
    if ttl is not None:
        requests["UpdateTimeToLive"] = {"TableName": create["TableName"], "TimeToLiveSpecification": ttl}
    return requests


def _index(index: Index, table: Table) -> dict[str, Any]:
    key_schema = [{"AttributeName": index.partition_key, "KeyType": "HASH"}]
    if index.sort_key:
        key_schema.append({"AttributeName": index.sort_key, "KeyType": "RANGE"})
    projection: dict[str, Any] = {"ProjectionType": index.projection}
    if index.projection == "INCLUDE":
        projection["NonKeyAttributes"] = list(index.include)
    out: dict[str, Any] = {"IndexName": index.name, "KeySchema": key_schema, "Projection": projection}
    if index.kind == "GSI" and table.billing == "PROVISIONED":
        out["ProvisionedThroughput"] = {"ReadCapacityUnits": index.read_capacity, "WriteCapacityUnits": index.write_capacity}
    return out


def _logical_id(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace(".", "-").replace("_", "-").split("-")) + "Table"


def cloudformation(tables: list[Table]) -> str:
    """A CloudFormation template (JSON, which is also valid YAML) declaring the tables."""
    resources: dict[str, Any] = {}
    for table in sorted(tables, key=lambda t: t.name):
        props = create_table_request(table)
        ttl = props.pop("TimeToLiveSpecification", None)
        if ttl:
            props["TimeToLiveSpecification"] = ttl
        if table.stream:
            # AWS::DynamoDB::Table takes only the view type (no StreamEnabled, unlike CreateTable).
            props["StreamSpecification"] = {"StreamViewType": table.stream}
        props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
        resources[_logical_id(table.name)] = {"Type": "AWS::DynamoDB::Table", "Properties": props}
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}, indent=2) + "\n"


def terraform(tables: list[Table]) -> str:
    """``aws_dynamodb_table`` resources (HCL)."""
    blocks = []
    for table in sorted(tables, key=lambda t: t.name):
        lines = [f'resource "aws_dynamodb_table" {json.dumps(table.name.replace(".", "_"))} {{']
        lines.append(f"  name         = {json.dumps(table.name)}")
        if table.billing == "PROVISIONED":
            lines += ['  billing_mode = "PROVISIONED"', f"  read_capacity  = {table.read_capacity}", f"  write_capacity = {table.write_capacity}"]
        else:
            lines.append('  billing_mode = "PAY_PER_REQUEST"')
        lines.append(f"  hash_key     = {json.dumps(table.partition_key)}")
        if table.sort_key:
            lines.append(f"  range_key    = {json.dumps(table.sort_key)}")
        for attr in create_table_request(table)["AttributeDefinitions"]:
            lines += ["  attribute {", f"    name = {json.dumps(attr['AttributeName'])}", f"    type = {json.dumps(attr['AttributeType'])}", "  }"]
        for index in table.indexes:
            kind = "global_secondary_index" if index.kind == "GSI" else "local_secondary_index"
            lines += [f"  {kind} {{", f"    name            = {json.dumps(index.name)}"]
            if index.kind == "GSI":
                lines.append(f"    hash_key        = {json.dumps(index.partition_key)}")
            if index.sort_key:
                lines.append(f"    range_key       = {json.dumps(index.sort_key)}")
            lines.append(f"    projection_type = {json.dumps(index.projection)}")
            if index.include:
                lines.append(f"    non_key_attributes = {json.dumps(list(index.include))}")
            if index.kind == "GSI" and table.billing == "PROVISIONED":
                lines += [f"    read_capacity   = {index.read_capacity}", f"    write_capacity  = {index.write_capacity}"]
            lines.append("  }")
        if table.ttl_attribute:
            lines += ["  ttl {", f"    attribute_name = {json.dumps(table.ttl_attribute)}", "    enabled        = true", "  }"]
        if table.stream:
            lines += ["  stream_enabled   = true", f"  stream_view_type = {json.dumps(table.stream)}"]
        lines.append("}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
