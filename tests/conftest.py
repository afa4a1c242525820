"""Fixtures shared across test modules (defined in :mod:`run_folders`)."""

from run_folders import baseline_folder, policy_folder, sweep_folder

__all__ = ["baseline_folder", "policy_folder", "sweep_folder"]
