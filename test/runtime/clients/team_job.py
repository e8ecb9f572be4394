"""What a team's batch or training job does with the MLflow client, in a container whose only
MLflow settings are the HOME and MLFLOW_TRACKING_URI of the credentials init step: the login comes
from $HOME/.mlflow/credentials alone. Logs a run with a param, a metric and an artifact in the
given experiment, and creates a registered model. Prints one JSON line.

Usage: python team_job.py '{"experiment": ..., "registered_model": ...}'
"""

import json
import os
import sys

import mlflow
from mlflow import MlflowClient

arguments = json.loads(sys.argv[1])
assert not {"MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"} & set(os.environ), "the login must come from the file"

mlflow.set_experiment(arguments["experiment"])
with mlflow.start_run() as run:
    mlflow.log_param("source", "team-job")
    mlflow.log_metric("rows_scored", 3)
    mlflow.log_text("scored 3 rows\n", "report.txt")
MlflowClient().create_registered_model(arguments["registered_model"])

print(json.dumps({"run_id": run.info.run_id, "experiment_id": run.info.experiment_id}))
