"""A team's training command, as a model's training CronJob runs it in the team's image: trains a
small sklearn classifier, logs its validation AUC in the experiment MLFLOW_EXPERIMENT_NAME, registers
a new version of MLFLOW_REGISTERED_MODEL_NAME from that run and sets the alias ``challenger`` on it
(the contract of docs/training.md). Its only MLflow settings are the job's environment and the
login file in $HOME. Prints one JSON line.

How good the model is comes from ``settings.json`` beside this file (the test mounts one per run):
``{"features": n}`` trains on the first n features only, a weaker model.
"""

import json
import os
import sys
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

assert not {"MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"} & set(os.environ), "the login must come from the file"
settings_file = Path(__file__).with_name("settings.json")
settings = json.loads(settings_file.read_text()) if settings_file.exists() else {}
model_name = os.environ["MLFLOW_REGISTERED_MODEL_NAME"]

features, target = load_breast_cancer(return_X_y=True, as_frame=True)
features = features.iloc[:, : settings.get("features", features.shape[1])]
train_x, valid_x, train_y, valid_y = train_test_split(features, target, test_size=0.3, random_state=7, stratify=target)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(train_x, train_y)
val_auc = float(roc_auc_score(valid_y, model.predict_proba(valid_x)[:, 1]))

# MLFLOW_EXPERIMENT_NAME picks the experiment; the team user creates it on the first run.
with mlflow.start_run() as run:
    mlflow.log_params({"features": features.shape[1], "rows": len(train_x)})
    mlflow.log_metric("val_auc", val_auc)
    logged = mlflow.sklearn.log_model(model, name="model", input_example=valid_x.head(2), registered_model_name=model_name)

version = str(logged.registered_model_version)
MlflowClient().set_registered_model_alias(model_name, "challenger", version)
print(f"trained on {features.shape[1]} features: val_auc={val_auc:.4f}; registered {model_name} version {version} as challenger", file=sys.stderr)
print(json.dumps({"run_id": run.info.run_id, "version": version, "val_auc": val_auc}))
