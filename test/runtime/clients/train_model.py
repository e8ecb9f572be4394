"""A team's training command, as a model's training CronJob runs it in the team's image: reads every
CSV file of the input folder TRAINING_INPUT (one a day, all with the same header and a ``target``
column) with the pod's own AWS credentials, trains a small sklearn classifier on them, logs its
validation AUC in the experiment MLFLOW_EXPERIMENT_NAME, registers a new version of
MLFLOW_REGISTERED_MODEL_NAME from that run and sets the alias ``challenger`` on it (the contract of
docs/training.md). Its only MLflow settings are the job's environment and the login file in $HOME;
its only AWS settings are the job's and what Pod Identity injects. Prints one JSON line.

How good the model is comes from ``settings.json`` beside this file (the test mounts one per run):
``{"features": n}`` trains on the first n features only, a weaker model.
"""

import io
import json
import os
import sys
from pathlib import Path

import boto3
import mlflow
import pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

assert not {"MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"} & set(os.environ), "the login must come from the file"
assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} & set(os.environ), "AWS credentials must come from the pod's identity"
settings_file = Path(__file__).with_name("settings.json")
settings = json.loads(settings_file.read_text()) if settings_file.exists() else {}
model_name = os.environ["MLFLOW_REGISTERED_MODEL_NAME"]

# The folder grows by a file a day: list it whole (a page holds at most 1000 keys), read every file.
bucket, _, prefix = os.environ["TRAINING_INPUT"].removeprefix("s3://").partition("/")
s3 = boto3.client("s3")
keys = [
    item["Key"]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    for item in page.get("Contents", [])
    if item["Key"].endswith(".csv")
]
data = pd.concat([pd.read_csv(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) for key in keys], ignore_index=True)
print(f"read {len(data)} rows from {len(keys)} files of {os.environ['TRAINING_INPUT']}", file=sys.stderr)
target = data.pop("target")
features = data.iloc[:, : settings.get("features", data.shape[1])]
train_x, valid_x, train_y, valid_y = train_test_split(features, target, test_size=0.3, random_state=7, stratify=target)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(train_x, train_y)
val_auc = float(roc_auc_score(valid_y, model.predict_proba(valid_x)[:, 1]))

# MLFLOW_EXPERIMENT_NAME picks the experiment; the team user creates it on the first run.
with mlflow.start_run() as run:
    mlflow.log_params({"features": features.shape[1], "rows": len(train_x), "input_rows": len(data), "input_files": len(keys)})
    mlflow.log_metric("val_auc", val_auc)
    logged = mlflow.sklearn.log_model(model, name="model", input_example=valid_x.head(2), registered_model_name=model_name)

version = str(logged.registered_model_version)
MlflowClient().set_registered_model_alias(model_name, "challenger", version)
print(f"trained on {features.shape[1]} features: val_auc={val_auc:.4f}; registered {model_name} version {version} as challenger", file=sys.stderr)
print(json.dumps({"run_id": run.info.run_id, "version": version, "val_auc": val_auc}))
