"""Statistical oracles shared by the diffusion-solver tests: chi-square tests of
walker counts against the exact distribution of the Markov chain
(``Problem.occupancy_probabilities``)."""

from __future__ import annotations

import numpy as np
from scipy.stats import chisquare

from spikec.diffusion import Problem

#: Significance level of every chi-square test (fixed seeds make each deterministic).
ALPHA = 1e-3


def chi_square_p(observed: np.ndarray, probs: np.ndarray) -> float:
    """p-value of observed bin counts against probabilities: bins expecting fewer than 5
    are pooled; an impossible bin must stay empty."""
    total = int(observed.sum())
    impossible = probs < 1e-12
    assert observed[impossible].sum() == 0, "an impossible outcome happened"
    expected = total * probs
    keep = (expected >= 5) & ~impossible
    small = ~keep & ~impossible
    obs = list(observed[keep].astype(float))
    exp = list(expected[keep])
    if small.any():
        if expected[small].sum() >= 5 or not obs:
            obs.append(float(observed[small].sum()))
            exp.append(float(expected[small].sum()))
        else:  # too small even pooled: merge it into the smallest bin
            i = int(np.argmin(exp))
            obs[i] += float(observed[small].sum())
            exp[i] += float(expected[small].sum())
    if len(obs) < 2:
        return 1.0
    exp_arr = np.asarray(exp) * total / sum(exp)
    return float(chisquare(np.asarray(obs), exp_arr).pvalue)


def occupancy_p_values(problem: Problem, counts: np.ndarray, steps: list[int]) -> list[float]:
    """One chi-square p-value per model step, pooling trials: all walkers start at one
    node, so the pooled counts (nodes + a lost bin) are multinomial."""
    start = int(np.flatnonzero(problem.initial.reshape(-1))[0])
    assert problem.initial.reshape(-1)[start] == problem.walkers
    exact = problem.occupancy_probabilities(start)
    trials = counts.shape[0]
    out = []
    for m in steps:
        per_node = counts[:, m].reshape(trials, -1).sum(axis=0)
        lost = trials * problem.walkers - per_node.sum()
        out.append(chi_square_p(np.append(per_node, lost), exact[m]))
    return out
