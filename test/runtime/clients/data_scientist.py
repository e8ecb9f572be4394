"""What a data scientist does with the MLflow client, run in a process that holds only the
tracking URL and the admin's login (no AWS credentials): create an account, then as that account
log a run with params, metrics and an sklearn model, register it, set an alias, load it by the
alias and predict. Prints one JSON line with what the tests check.

Usage: python data_scientist.py '{"user": ..., "password": ..., "registered_model": ..., "alias": ...}'
"""

import json
import os
import sys

import mlflow
import numpy as np
from mlflow.models import infer_signature
from mlflow.server.auth.client import AuthServiceClient
from mlflow.tracking import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

arguments = json.loads(sys.argv[1])
tracking_uri = os.environ["MLFLOW_TRACKING_URI"]

# The admin creates the account; everything after runs as the new user.
AuthServiceClient(tracking_uri).create_user(arguments["user"], arguments["password"])
os.environ["MLFLOW_TRACKING_USERNAME"] = arguments["user"]
os.environ["MLFLOW_TRACKING_PASSWORD"] = arguments["password"]

features, target = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(max_iter=500).fit(features, target)

mlflow.set_experiment("runtime-tests")
with mlflow.start_run() as run:
    mlflow.log_params({"max_iter": 500, "model": "LogisticRegression"})
    mlflow.log_metric("train_accuracy", float(model.score(features, target)))
    logged = mlflow.sklearn.log_model(
        model,
        name="model",
        signature=infer_signature(features, model.predict(features)),
        input_example=features.head(3),
        registered_model_name=arguments["registered_model"],
    )

client = MlflowClient()
version = logged.registered_model_version
client.set_registered_model_alias(arguments["registered_model"], arguments["alias"], version)

loaded = mlflow.pyfunc.load_model(f"models:/{arguments['registered_model']}@{arguments['alias']}")
sample = features.sample(20, random_state=7)
predictions = np.asarray(loaded.predict(sample)).tolist()

print(
    json.dumps(
        {
            "run_id": run.info.run_id,
            "experiment_id": run.info.experiment_id,
            "artifact_uri": run.info.artifact_uri,
            "model_version": str(version),
            "registered_model": arguments["registered_model"],
            "alias": arguments["alias"],
            "alias_predictions_match": predictions == model.predict(sample).tolist(),
            "sample": sample.to_dict(orient="split"),
            "user": arguments["user"],
            "password": arguments["password"],
        }
    )
)
