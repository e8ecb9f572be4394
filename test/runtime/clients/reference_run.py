"""What a team's training does for its drift reports, with the MLflow client and the team's login:
logs a run with the training data as an artifact and the model trained on it, registers that model
as a version and points an alias at it. Prints one JSON line: the run id and the version.

Usage: python reference_run.py '{"experiment": ..., "registered_model": ..., "alias": ...,
"training_data": <CSV file>, "artifact_folder": ...}'
"""

import json
import sys

import mlflow
import pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

arguments = json.loads(sys.argv[1])
frame = pd.read_csv(arguments["training_data"])
features = frame.select_dtypes("number")
model = LogisticRegression(max_iter=500).fit(features, frame["channel"] == "web")

mlflow.set_experiment(arguments["experiment"])
with mlflow.start_run() as run:
    mlflow.log_artifact(arguments["training_data"], artifact_path=arguments["artifact_folder"])
    logged = mlflow.sklearn.log_model(model, name="model", input_example=features.head(3), registered_model_name=arguments["registered_model"])
version = logged.registered_model_version
MlflowClient().set_registered_model_alias(arguments["registered_model"], arguments["alias"], version)

print(json.dumps({"run_id": run.info.run_id, "version": str(version)}))
