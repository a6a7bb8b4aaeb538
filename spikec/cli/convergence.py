"""``spikec solve FILE --convergence``: the spiking solver's error against walkers.

For each walker count M the problem's walkers are scaled to M in all: its initial
counts and its sources (if any) times ``M / (initial + injected walkers)``, rounded
per node (a point source gets exactly M; the default counts scale any problem
exactly, :func:`default_walkers`; rounded counts change the problem's shape, and its
error then need not follow 1/sqrt(M)). Its density circuit is built
(:func:`spikec.circuits.diffusion.diffusion_network`) and run for ``trials`` trials.
The error of one trial is the relative L2 error of its field over model steps
1..steps against the exact chain mean of the scaled problem,

    e = sqrt(sum_m sum_i (N_mi - E[N_mi])^2 / sum_m sum_i E[N_mi]^2),

a number free of the field's units, and the error reported for M is the RMS of e over
the trials. Walkers are independent, so E[e^2] is exactly c / M when the counts are
scaled exactly (a point source): the fitted slope of log10(error) on log10(M) is then
-1/2 up to the sampling noise of the RMS.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Any, TextIO

import numpy as np

__all__ = ["DEFAULT_WALKERS", "default_walkers", "scaled", "sweep", "cmd_convergence"]

#: Walker counts swept by default: four over two decades.
DEFAULT_WALKERS = (10, 46, 215, 1000)


def scaled(problem: Any, walkers: int) -> Any:
    """``problem`` (a :class:`Problem` or :class:`Chain`) with its initial walkers and its
    sources scaled to ``walkers`` in all (module docstring)."""
    from spikec.diffusion.chain import Chain
    from spikec.errors import DiffusionError

    total = _total(problem)
    if total < 1:
        raise DiffusionError("--convergence: the problem has no walkers to scale")
    f = walkers / total
    initial = np.rint(np.asarray(problem.initial, dtype=float) * f).astype(np.int64)
    if isinstance(problem, Chain):
        sources = None if problem.sources is None else np.rint(problem.sources * f).astype(np.int64)
        return dataclasses.replace(problem, initial=initial, sources=sources)
    return dataclasses.replace(problem, initial=initial)


def _total(problem: Any) -> int:
    from spikec.diffusion.chain import Chain

    return problem.walkers + (int(problem.source_table().sum()) if isinstance(problem, Chain) else 0)


def default_walkers(problem: Any) -> list[int]:
    """:data:`DEFAULT_WALKERS` for a point source without sources (any count scales it exactly);
    otherwise 1, 3, 10 and 30 times the problem's walkers (initial + injected), which integer
    counts per node scale exactly."""
    from spikec.diffusion.chain import Chain

    point = np.count_nonzero(problem.initial) == 1 and not (
        isinstance(problem, Chain) and problem.sources is not None and np.any(problem.sources))
    return list(DEFAULT_WALKERS) if point else [k * _total(problem) for k in (1, 3, 10, 30)]


def _relative_errors(counts: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Each trial's relative L2 error over model steps 1.. (module docstring)."""
    diff = counts[:, 1:].reshape(len(counts), -1) - exact[1:].reshape(1, -1)
    norm = float(np.sqrt(np.sum(exact[1:] ** 2))) or 1.0
    return np.asarray(np.sqrt(np.sum(diff**2, axis=1)) / norm)


def sweep(problem: Any, walkers: list[int] | tuple[int, ...], trials: int, seed: int = 0,
          progress: bool = False) -> dict[str, Any]:
    """Run the sweep; returns the walkers used (initial + injected, after rounding), the
    RMS error per count, each trial's error, and the fit ``log10(error) = intercept + slope
    * log10(walkers)``."""
    from spikec.backends.diffusion import solve
    from spikec.circuits.diffusion import diffusion_network

    used, rms, per_trial = [], [], []
    for w in walkers:
        p = scaled(problem, int(w))
        sol = solve(diffusion_network(p), trials=trials, seed=seed, progress=progress)
        errors = _relative_errors(sol.counts.reshape(trials, p.steps + 1, -1).astype(float),
                                  p.exact_mean().reshape(p.steps + 1, -1))
        used.append(_total(p))
        rms.append(float(np.sqrt(np.mean(errors**2))))
        per_trial.append(errors.tolist())
    x, y = np.log10(np.asarray(used, dtype=float)), np.log10(np.asarray(rms))
    ok = np.isfinite(y)
    slope, intercept = (np.polyfit(x[ok], y[ok], 1) if ok.sum() >= 2 else (float("nan"), float("nan")))
    return {"walkers": used, "trials": trials, "seed": seed, "rms_error": rms, "trial_errors": per_trial,
            "slope": float(slope), "intercept": float(intercept),
            "error": "relative L2 error of a trial's field over model steps 1..steps against the exact"
                     " chain mean, RMS over trials"}


def cmd_convergence(args: argparse.Namespace, net: Any, out: TextIO) -> int:
    """``spikec solve FILE --convergence``: the problem of ``net``'s field probe, swept."""
    from spikec.backends.diffusion import field_probe
    from spikec.cli import report
    from spikec.diffusion.chain import problem_from_dict
    from spikec.errors import UsageError

    if args.csv or args.npz:
        raise UsageError("--convergence writes no --csv or --npz (it prints the sweep; --json gives"
                         " every trial's error)")
    problem = problem_from_dict((field_probe(net, args.field).info or {})["problem"])
    walkers = args.convergence_walkers or default_walkers(problem)
    trials = max(args.trials, 8)
    result = sweep(problem, walkers, trials, args.seed)
    if args.plot:
        from spikec.cli.solve_figures import convergence_figure

        title = (f"{args.file}: {problem.describe()}; {trials} trials per walker count, seed {args.seed}")
        report.save_figure(args.plot, convergence_figure(
            np.asarray(result["walkers"]), np.asarray(result["rms_error"]), result["slope"],
            result["intercept"], title, "relative L2 error vs exact chain mean (RMS over trials)"))
    if args.json:
        out.write(json.dumps(result) + "\n")
        return 0
    out.write(f"{args.file}: {problem.describe()}\n")
    out.write(f"convergence with walkers: {result['error']} ({trials} trials per count,"
              f" seed {args.seed})\n\n")
    out.write(f"  {'walkers':>9}  {'error':>10}  {'error x sqrt(M)':>15}\n")
    for w, e in zip(result["walkers"], result["rms_error"], strict=True):
        out.write(f"  {w:9,d}  {e:10.4g}  {e * np.sqrt(w):15.4g}\n")
    out.write(f"\nfitted slope of log10(error) on log10(walkers): {result['slope']:.3f}"
              " (theory -0.5: M independent walkers)\n")
    if args.plot:
        out.write(f"wrote {args.plot}\n")
    return 0
