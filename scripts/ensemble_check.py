"""Re-check a calibrated ensemble against the calibration targets on the current model.

For every parameter set of an ensemble folder (``flowsim calibrate`` output), run the
targets file's scenario with the set's values for the file's replicates (its seeds, its
run settings) and print each calibration target's mean, its distance in tolerance bands
and whether the set still meets every target. A model change after a fit (issue 10's
stationary baseline) can move a set out of its targets; this tells how many still fit::

    python scripts/ensemble_check.py scenarios/calibration/targets.yaml \
        scenarios/calibration/ensemble [--workers 2]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from tqdm import tqdm


def _one(job: tuple[str, dict[str, float], int]) -> dict[str, float]:
    from flowsim.calibration.evaluate import model_values
    from flowsim.calibration.targets import load_targets
    from flowsim.params import with_overrides
    from flowsim.run import run

    path, values, seed = job
    targets = load_targets(path)
    scenario = with_overrides(targets.base_scenario(), values)
    found, _ = model_values(targets.spec.of_role("calibration"), run(scenario, seed))
    return found


def main(argv: list[str] | None = None) -> int:
    """Print one row per parameter set; exit 0."""
    from flowsim.calibration.evaluate import distance
    from flowsim.calibration.targets import load_targets
    from flowsim.ensemble import load_ensemble
    from flowsim.streams import replicate_seeds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets")
    parser.add_argument("ensemble")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    spec = load_targets(args.targets).spec
    calibration = spec.of_role("calibration")
    sets = load_ensemble(args.ensemble, allow_misfit=True)  # checking them is the point
    seeds = replicate_seeds(spec.seed, spec.replicates)
    jobs = [(args.targets, values, s) for values in sets for s in seeds]
    with ProcessPoolExecutor(args.workers) as pool:
        found = list(tqdm(pool.map(_one, jobs), total=len(jobs), desc="runs", file=sys.stderr))
    print("| set | " + " | ".join(t.id for t in calibration) + " | meets all |")
    print("|---|" + "---|" * (len(calibration) + 1))
    ok_sets = 0
    for i in range(len(sets)):
        rows = found[i * len(seeds) : (i + 1) * len(seeds)]
        cells, ok = [], True
        for t in calibration:
            mean = float(np.mean([r[t.id] for r in rows]))
            d = distance(t, mean)
            ok &= abs(d) <= 1.0
            cells.append(f"{mean:,.4g} ({d:+.2f})")
        ok_sets += ok
        print(f"| {i} | " + " | ".join(cells) + f" | {'yes' if ok else 'no'} |")
    print(
        f"\n{ok_sets} of {len(sets)} sets meet every calibration target "
        f"(mean of {len(seeds)} replicates; distance in tolerance bands)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
