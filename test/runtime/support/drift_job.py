"""A model's drift report CronJob of the synthesized manifest, run as the kubelet runs one of its
pods: the init container ``mlflow-credentials``, then the container ``report``, each only if the one
before exited 0. Both are platform steps, run as the training job's are (support/training_job.py):
the MLflow image's files with its Dockerfile's environment and the agent stand-in's credentials.
"""

from __future__ import annotations

from .assembly import Assembly, find_object
from .training_job import StepRun, TrainingPod, pod_spec

__all__ = ["DriftPod", "StepRun", "drift_cron_job", "pod_spec"]


def drift_cron_job(assembly: Assembly, model: str) -> dict:
    """The model's drift report CronJob, from the model's own stack."""
    return find_object(assembly.applied_objects(assembly.stack(f"Model-{model}")), "CronJob", f"{model}-drift")


class DriftPod(TrainingPod):
    """One pod of the CronJob; it has no team step, so every step runs the platform image."""
