"""The SAM template of the payments example, generated from the compiled schemas.

The tables come from the compiler (``dynagen.compiler._tables.cloudformation``, the same definitions
as ``dynagen tables --format cloudformation``); this module adds what the example deploys:

- ``PaymentsApiFunction`` (the API handler) with its own role: exactly the DynamoDB actions the
  handler uses (GetItem, PutItem, UpdateItem, ConditionCheckItem, Query; TransactWriteItems is
  authorized through those), on the table and only the indexes its access patterns query, plus
  ``dynamodb:DescribeEndpoints`` (the warm-up request; it takes no resource) and, when partners
  are configured, ``sts:AssumeRole`` on exactly their role ARNs;
- ``PaymentsStreamFunction`` (the stream consumer) with a role that can read the table's stream
  (and nothing else of the table) and send failed batches to its on-failure queue;
- the event source mapping: the table's stream, ``ReportBatchItemFailures``, bisect on error,
  bounded retries, on-failure destination ``PaymentsStreamFailures`` (SQS);
- CloudWatch Logs (AWSLambdaBasicExecutionRole) and X-Ray (active tracing) for both.

JSON is valid YAML: ``sam deploy --template-file template.json`` and
``aws cloudformation package/deploy`` both take it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["API_ACTIONS", "build_template", "template_from_schemas"]

# What handler.py calls: GetItem (get), PutItem (create), UpdateItem (update), Query (access patterns);
# its refund transaction needs UpdateItem + PutItem (ConditionCheckItem for condition-only actions).
API_ACTIONS = (
    "dynamodb:ConditionCheckItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)
# The indexes the handler's access patterns query (payments_of_customer is on GSI1).
API_INDEXES = ("GSI1",)

_ASSUME_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
_MANAGED = [
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
]


def build_template(
    tables_template: dict[str, Any],
    *,
    table_logical_id: str,
    code_uri: str = "payments-lambda.zip",
    indexes: Sequence[str] = API_INDEXES,
) -> dict[str, Any]:
    """The full SAM template around the compiler's CloudFormation ``tables_template``."""
    resources: dict[str, Any] = dict(tables_template["Resources"])
    table = resources[table_logical_id]["Properties"]
    known = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    known |= {index["IndexName"] for index in table.get("LocalSecondaryIndexes", [])}
    missing = [name for name in indexes if name not in known]
    if missing:
        raise ValueError(f"the table has no index {missing}: regenerate the template after changing the schema")
    if "StreamSpecification" not in table:
        raise ValueError("the table has no stream: the stream consumer needs `stream:` in the schema")
    # CloudFormation's StreamSpecification is the view type alone (CreateTable's StreamEnabled is refused).
    if table["StreamSpecification"].get("StreamViewType") != "NEW_AND_OLD_IMAGES":
        raise ValueError("the stream consumer compares old and new images: `stream: new_and_old_images`")
    table_arn = {"Fn::GetAtt": [table_logical_id, "Arn"]}
    stream_arn = {"Fn::GetAtt": [table_logical_id, "StreamArn"]}
    index_arns = [{"Fn::Sub": f"${{{table_logical_id}.Arn}}/index/{name}"} for name in indexes]

    resources["PaymentsApiRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": _ASSUME_LAMBDA,
            "ManagedPolicyArns": _MANAGED,
            "Policies": [
                {
                    "PolicyName": "payments-table",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "ItemsOfThePaymentsTable",
                                "Effect": "Allow",
                                "Action": [a for a in API_ACTIONS if a != "dynamodb:Query"],
                                "Resource": [table_arn],
                            },
                            {
                                "Sid": "QueryTheTableAndTheIndexesItsAccessPatternsUse",
                                "Effect": "Allow",
                                "Action": ["dynamodb:Query"],
                                "Resource": [table_arn, *index_arns],
                            },
                            {
                                "Sid": "WarmUpRequestTakesNoResource",
                                "Effect": "Allow",
                                "Action": ["dynamodb:DescribeEndpoints"],
                                "Resource": "*",
                            },
                        ],
                    },
                },
                {
                    "Fn::If": [
                        "HasPartners",
                        {
                            "PolicyName": "assume-partner-roles",
                            "PolicyDocument": {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Sid": "OnlyTheConfiguredPartnerRoles",
                                        "Effect": "Allow",
                                        "Action": ["sts:AssumeRole"],
                                        "Resource": {"Ref": "PartnerRoleArns"},
                                    }
                                ],
                            },
                        },
                        {"Ref": "AWS::NoValue"},
                    ]
                },
            ],
        },
    }
    resources["PaymentsApiFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Description": "Payments API over the dynagen-generated payments module",
            "CodeUri": code_uri,
            "Handler": "examples.payments_lambda.handler.handler",
            "Role": {"Fn::GetAtt": ["PaymentsApiRole", "Arn"]},
            "MemorySize": {"Ref": "MemorySize"},
            "Timeout": {"Ref": "Timeout"},
            "Environment": {
                "Variables": {
                    "PAYMENTS_TABLE": {"Ref": table_logical_id},
                    "DYNAGEN_TRANSPORT": {"Ref": "Transport"},
                    "DYNAGEN_PARTNERS": {"Fn::If": ["HasPartners", {"Ref": "PartnersJson"}, {"Ref": "AWS::NoValue"}]},
                    "LOG_LEVEL": "INFO",
                }
            },
        },
    }
    resources["PaymentsStreamFailures"] = {
        "Type": "AWS::SQS::Queue",
        "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
    }
    resources["PaymentsStreamRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": _ASSUME_LAMBDA,
            "ManagedPolicyArns": _MANAGED,
            "Policies": [
                {
                    "PolicyName": "payments-stream",
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "ReadThePaymentsStream",
                                "Effect": "Allow",
                                "Action": ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                                "Resource": [stream_arn],
                            },
                            {
                                "Sid": "ListTheTablesStreams",
                                "Effect": "Allow",
                                "Action": ["dynamodb:ListStreams"],
                                "Resource": [{"Fn::Sub": f"${{{table_logical_id}.Arn}}/stream/*"}],
                            },
                            {
                                "Sid": "FailedBatchesToTheQueue",
                                "Effect": "Allow",
                                "Action": ["sqs:SendMessage"],
                                "Resource": [{"Fn::GetAtt": ["PaymentsStreamFailures", "Arn"]}],
                            },
                        ],
                    },
                }
            ],
        },
    }
    resources["PaymentsStreamFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Description": "Aggregates captured and refunded amounts from the payments table's stream",
            "CodeUri": code_uri,
            "Handler": "examples.payments_lambda.stream.handler",
            "Role": {"Fn::GetAtt": ["PaymentsStreamRole", "Arn"]},
            "MemorySize": 256,
            "Timeout": 60,
            "Events": {
                "PaymentsStream": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "Stream": stream_arn,
                        "StartingPosition": "TRIM_HORIZON",
                        "BatchSize": 100,
                        "MaximumBatchingWindowInSeconds": 1,
                        "BisectBatchOnFunctionError": True,
                        "MaximumRetryAttempts": 5,
                        "MaximumRecordAgeInSeconds": 86400,
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        "DestinationConfig": {
                            "OnFailure": {
                                "Type": "SQS",
                                "Destination": {"Fn::GetAtt": ["PaymentsStreamFailures", "Arn"]},
                            }
                        },
                    },
                }
            },
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": "dynagen payments example: tables from schemas/, API and stream functions",
        "Parameters": {
            "MemorySize": {"Type": "Number", "Default": 512, "MinValue": 128, "MaxValue": 10240},
            "Timeout": {"Type": "Number", "Default": 10, "MinValue": 1, "MaxValue": 900},
            "Transport": {"Type": "String", "Default": "lean", "AllowedValues": ["lean", "botocore"]},
            "PartnersJson": {
                "Type": "String",
                "Default": "",
                "NoEcho": True,  # external IDs are not secrets, but need not show in the console
                "Description": "DYNAGEN_PARTNERS: JSON partner config (role_arn, external_id, region); "
                "empty = all partners in this account",
            },
            "PartnerRoleArns": {
                "Type": "CommaDelimitedList",
                "Default": "",
                "Description": "The partners' role ARNs (the API role may assume exactly these)",
            },
        },
        "Conditions": {"HasPartners": {"Fn::Not": [{"Fn::Equals": [{"Ref": "PartnersJson"}, ""]}]}},
        "Globals": {
            "Function": {
                "Runtime": "python3.11",
                "Architectures": ["arm64"],
                "Tracing": "Active",
            }
        },
        "Resources": resources,
        "Outputs": {
            "PaymentsTableName": {"Value": {"Ref": table_logical_id}},
            "PaymentsApiFunctionName": {"Value": {"Ref": "PaymentsApiFunction"}},
            "PaymentsStreamFunctionName": {"Value": {"Ref": "PaymentsStreamFunction"}},
            "PaymentsStreamFailuresQueue": {"Value": {"Ref": "PaymentsStreamFailures"}},
        },
    }


def template_from_schemas(schemas: Iterable[Path], *, root: Path, table: str = "payments", code_uri: str) -> dict[str, Any]:
    """Compile ``schemas`` (the compiler is needed here, at build time only) and build the template."""
    from dynagen.compiler import load_schemas
    from dynagen.compiler._tables import cloudformation

    modules = load_schemas(list(schemas), root=root)
    tables = {t.name: t for m in modules for t in m.tables}
    tables_template = json.loads(cloudformation([tables[name] for name in sorted(tables)]))
    logical = [
        logical_id
        for logical_id, resource in tables_template["Resources"].items()
        if resource["Properties"].get("TableName") == table
    ]
    if len(logical) != 1:
        raise ValueError(f"no single table named {table!r} in the schemas")
    return build_template(tables_template, table_logical_id=logical[0], code_uri=code_uri)
