"""Reads back a run and a registry alias with the MLflow client, as another user's session would.

Usage: python read_run.py '{"run_id": ..., "registered_model": ..., "alias": ...}'
"""

import json
import sys

from mlflow.tracking import MlflowClient

arguments = json.loads(sys.argv[1])
client = MlflowClient()
run = client.get_run(arguments["run_id"])
version = client.get_model_version_by_alias(arguments["registered_model"], arguments["alias"])
print(json.dumps({"run_id": run.info.run_id, "params": run.data.params, "alias_version": str(version.version)}))
