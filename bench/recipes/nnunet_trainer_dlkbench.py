"""nnUNetTrainer_dlkbench: nnU-Net v2's own recipe, cut to a fixed number of iterations (bench/recipes/nnunet.sh).

bench/recipes/nnunet.sh copies this file into the venv's nnunetv2/training/nnUNetTrainer/ so that
nnUNetv2_train and nnUNetPredictor find the class by name. Everything of nnUNetTrainer is kept (SGD with
Nesterov momentum 0.99, lr 1e-2, weight decay 3e-5, poly schedule stepped per epoch, Dice+CE with deep
supervision, its batchgeneratorsv2 augmentation, 33% foreground oversampling, gradient clipping at 12)
except, from the environment:
  DLKBENCH_ITERATIONS   training iterations in all (default 1200); num_epochs * num_iterations_per_epoch
  DLKBENCH_PER_EPOCH    iterations per epoch (default 50; the largest divisor of ITERATIONS <= it is used)
  DLKBENCH_VAL_ITERS    validation iterations per epoch (default 1; nnU-Net: 50; only its pseudo Dice log)
  DLKBENCH_SEED         seeds python's random, numpy and torch before the network is built (default 1)
  DLKBENCH_THREADS      torch CPU threads (default 1; nnUNetv2_train -device cpu would take every core)
The batch size and patch size come from the plans' configuration (nnunet.sh writes 2d_dlkbench).
nnU-Net's final validation (a sliding-window prediction of every training case) is skipped: the bench
predicts the cases itself. Timings of the training steps go to fold_all/dlkbench_timing.json.
"""
import json
import os
import random
import time

import numpy as np
import torch

from nnunetv2.training.nnUNetTrainer.nnUNetTrainer import nnUNetTrainer


def _per_epoch(iterations: int, wanted: int) -> int:
    for k in range(min(wanted, iterations), 0, -1):
        if iterations % k == 0:
            return k
    return 1


class nnUNetTrainer_dlkbench(nnUNetTrainer):
    def __init__(self, plans: dict, configuration: str, fold: int, dataset_json: dict,
                 device: torch.device = torch.device('cuda')):
        super().__init__(plans, configuration, fold, dataset_json, device)
        self.dlkbench_seed = int(os.environ.get('DLKBENCH_SEED', '1'))
        iterations = int(os.environ.get('DLKBENCH_ITERATIONS', '1200'))
        per_epoch = _per_epoch(iterations, int(os.environ.get('DLKBENCH_PER_EPOCH', '50')))
        self.num_iterations_per_epoch = per_epoch
        self.num_epochs = iterations // per_epoch
        self.num_val_iterations_per_epoch = int(os.environ.get('DLKBENCH_VAL_ITERS', '1'))
        self.save_every = 10 ** 9  # no checkpoint_latest on the way; checkpoint_final is written at the end
        if self.device.type == 'cpu':
            torch.set_num_threads(int(os.environ.get('DLKBENCH_THREADS', '1')))
        random.seed(self.dlkbench_seed)
        np.random.seed(self.dlkbench_seed)
        torch.manual_seed(self.dlkbench_seed)
        self._dlkbench_step_s = 0.0
        self._dlkbench_steps = 0

    def train_step(self, batch: dict) -> dict:
        t = time.perf_counter()
        r = super().train_step(batch)
        self._dlkbench_step_s += time.perf_counter() - t
        self._dlkbench_steps += 1
        return r

    def run_training(self):
        t = time.perf_counter()
        super().run_training()
        total = time.perf_counter() - t
        if self.local_rank == 0:
            with open(os.path.join(self.output_folder, 'dlkbench_timing.json'), 'w') as f:
                json.dump({'iterations': self._dlkbench_steps, 'epochs': self.num_epochs,
                           'iterations_per_epoch': self.num_iterations_per_epoch,
                           'batch_size': self.batch_size, 'patch_size': list(self.configuration_manager.patch_size),
                           'seed': self.dlkbench_seed, 'threads': torch.get_num_threads(),
                           'run_training_s': total, 'train_step_s': self._dlkbench_step_s}, f, indent=1)

    def perform_actual_validation(self, save_probabilities: bool = False):
        self.print_to_log_file('nnUNetTrainer_dlkbench: final validation skipped (the bench predicts the cases)')
