"""Training the baseline policy on the project's LeRobot datasets: frames and 16-step
``cosmos_ee_delta`` targets from a dataset (:mod:`.data`), and a seeded, resumable CPU loop that
writes safetensors checkpoints (:mod:`.loop`)."""

from .data import TrainingSet, build_training_set
from .loop import TrainOptions, TrainResult, train

__all__ = ["TrainOptions", "TrainResult", "TrainingSet", "build_training_set", "train"]
