"""Downloads a registered model the way `mlflow models build-docker -m models:/<name>@<alias>`
does before it copies the files to /opt/ml/model, with the user's MLflow login only.

Usage: python model_layout.py '{"model_uri": "models:/<name>@<alias>", "destination": <folder>}'
"""

import json
import sys

import mlflow

arguments = json.loads(sys.argv[1])
path = mlflow.artifacts.download_artifacts(artifact_uri=arguments["model_uri"], dst_path=arguments["destination"])
print(json.dumps({"path": path}))
