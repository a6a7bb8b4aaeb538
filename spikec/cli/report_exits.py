"""``spikec solve``'s section on exits: tallies, boundary values and first-passage times.

For a run whose circuit records its loss gates (``Solution.exits``), it prints how many
walkers left and checks that walkers are conserved in every trial (inside + exited =
initial + injected). For a boundary-value problem (a chain with ``exits``: boundary values
and start points, :mod:`spikec.diffusion.exits`) it prints, per start point:

- the estimate of ``u = E[g(X_exit)]``: the mean over the walkers of their exit node's mean
  value ``h_i``, with a 95% normal (CLT) confidence interval from the sample standard
  deviation of the per-walker values. Walkers still inside after the last model step could
  take any value in ``[g_min, g_max]``: the estimate counts them at the middle, the
  interval's lower end as ``g_min`` and its upper end as ``g_max`` (each with its own
  standard error), so it covers ``u`` whatever they would have done;
- the exact ``u`` of the sparse linear solve ``(I - Q) u = R g`` and the z-score;
- the first-passage time distribution (walkers leaving at each model step, pooled over
  trials) against ``P(T = m) = (e_s Q^(m-1) R) 1`` by a chi-square test (adjacent steps
  merged until each bin expects at least 5 walkers, the walkers still inside the last bin),
  and the mean exit
  time against the exact ``(I - Q)^-1 1``.
"""

from __future__ import annotations

import math
from typing import Any, TextIO

import numpy as np

__all__ = ["exits_report", "boundary_estimates", "chi_square", "consecutive_bins"]

#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054


def chi_square(observed: np.ndarray, probs: np.ndarray) -> tuple[float, int]:
    """``(p-value, degrees of freedom)`` of bin counts against probabilities: bins expecting
    fewer than 5 are pooled into one (merged into the smallest bin when still under 5); an
    observation in an impossible bin (probability below 1e-12) gives p = 0."""
    from scipy.stats import chisquare

    observed = np.asarray(observed, dtype=float)
    probs = np.asarray(probs, dtype=float)
    total = observed.sum()
    impossible = probs < 1e-12
    if observed[impossible].sum() > 0:
        return 0.0, 0
    expected = total * probs
    keep = (expected >= 5) & ~impossible
    small = ~keep & ~impossible
    obs = list(observed[keep])
    exp = list(expected[keep])
    if small.any():
        if expected[small].sum() >= 5 or not obs:
            obs.append(float(observed[small].sum()))
            exp.append(float(expected[small].sum()))
        else:
            i = int(np.argmin(exp))
            obs[i] += float(observed[small].sum())
            exp[i] += float(expected[small].sum())
    if len(obs) < 2:
        return 1.0, 0
    exp_arr = np.asarray(exp) * total / sum(exp)
    return float(chisquare(np.asarray(obs), exp_arr).pvalue), len(obs) - 1


def consecutive_bins(observed: np.ndarray, probs: np.ndarray, least: float = 5.0) -> tuple[np.ndarray,
                                                                                            np.ndarray]:
    """Adjacent bins (of a histogram over time) merged from the left until each expects at least
    ``least`` (a short remainder joins the last group): ``(observed, probs)`` of the groups."""
    observed = np.asarray(observed, dtype=float)
    probs = np.asarray(probs, dtype=float)
    total = observed.sum()
    expected = np.cumsum(probs) * total
    group = np.floor(expected / least).astype(np.int64)
    group = np.minimum(group, max(int(group[-1]) - 1, 0)) if len(group) else group  # remainder joins the last
    _, idx = np.unique(group, return_inverse=True)
    return np.bincount(idx, weights=observed), np.bincount(idx, weights=probs)


def boundary_estimates(sol: Any) -> list[dict[str, Any]]:
    """Per start point of a boundary-value run: the estimate, its interval, the exact value and
    the first-passage comparison (module docstring). Empty unless ``sol`` has exit tallies and its
    problem boundary values."""
    from spikec.diffusion.exits import exact_values, exit_distribution, mean_exit_time

    problem = sol.problem
    ex = getattr(problem, "exit_columns", lambda: None)()
    if ex is None or sol.exits is None:
        return []
    n = ex.nodes
    Q = problem.matrix[:n, :n]
    R = ex.matrix()
    u = exact_values(Q, R, ex.value)
    t_exact = mean_exit_time(Q, ex.loss())
    h = ex.node_values()
    low, high = ex.value_range()
    steps = problem.steps
    first, inside_p = exit_distribution(Q, R, ex.starts, steps)
    out = []
    for k, s in enumerate(ex.starts.tolist()):
        block = sol.exits[:, :, k * n:(k + 1) * n]  # (trials, steps, n)
        per_node = block.sum(axis=(0, 1)).astype(float)
        walkers = sol.trials * ex.walkers
        exited = float(per_node.sum())
        inside = walkers - exited
        paid = float(per_node @ h)
        paid2 = float(per_node @ h**2)

        def interval(fill: float, sign: float, paid: float = paid, paid2: float = paid2,
                     inside: float = inside, walkers: int = walkers) -> tuple[float, float]:
            mean = (paid + inside * fill) / max(walkers, 1)
            second = (paid2 + inside * fill**2) / max(walkers, 1)
            var = max(second - mean**2, 0.0) * walkers / max(walkers - 1, 1)
            se = math.sqrt(var / max(walkers, 1))
            return mean + sign * Z95 * se, se

        lo, se_lo = interval(low, -1.0)
        hi, se_hi = interval(high, 1.0)
        # walkers still inside are counted at the middle of [g_min, g_max]: the estimate is off by at
        # most inside_fraction * (g_max - g_min) / 2 for them, and the interval covers it
        estimate = (paid + inside * (low + high) / 2) / walkers if walkers else float("nan")
        se = max(se_lo, se_hi)
        times = block.sum(axis=(0, 2)).astype(float)  # exits at T = m + 1
        p_value, dof = chi_square(*consecutive_bins(np.append(times, inside),
                                                    np.append(first[k].sum(axis=1), inside_p[k])))
        steps_seen = np.arange(1, steps + 1, dtype=float)
        mean_t = float(times @ steps_seen / exited) if exited else float("nan")
        exact_t = float(first[k].sum(axis=1) @ steps_seen / max(1.0 - inside_p[k], 1e-300))
        out.append({
            "start": s, "walkers": walkers, "exited": int(exited), "inside": int(inside),
            "inside_fraction": inside / max(walkers, 1), "estimate": estimate, "std_error": se,
            "interval": [lo, hi], "exact": float(u[s]),
            "z": (estimate - float(u[s])) / se if se > 0 and exited else float("nan"),
            "covered": bool(lo <= u[s] <= hi),
            "first_passage_p": p_value, "first_passage_dof": dof,
            "mean_exit_step": mean_t, "exact_mean_exit_step_within_run": exact_t,
            "exact_mean_exit_step": float(t_exact[s]), "exit_steps": times.astype(int).tolist(),
            "exact_exit_probabilities": first[k].sum(axis=1).tolist(),
            "exact_inside_probability": float(inside_p[k]),
        })
    return out


def exits_report(sol: Any, out: TextIO) -> dict[str, Any]:
    """Print the exits section of ``spikec solve`` (module docstring); return its JSON summary
    (``{}`` when the run recorded no exits)."""
    if getattr(sol, "exits", None) is None:
        return {}
    problem = sol.problem
    inside = sol.counts.reshape(sol.trials, problem.steps + 1, -1).sum(axis=2)
    exited = sol.exits.sum(axis=2)  # (trials, steps)
    table = problem.source_table() if hasattr(problem, "source_table") else np.zeros((problem.steps, 1))
    injected = table.sum(axis=1)
    conserved = bool(np.all(inside[:, 1:] == inside[:, :-1] - exited + injected[None, :]))
    total = int(exited.sum())
    out.write(f"\nexits: {total:,} walkers left over {sol.trials} trial{'s' if sol.trials != 1 else ''}"
              f" ({total / sol.trials:.1f} per trial), {int(inside[:, -1].sum()) / sol.trials:.1f} per trial"
              f" still inside after step {problem.steps};\n"
              f"  inside + exited = initial + injected in every trial and step:"
              f" {'yes' if conserved else 'NO'}\n")
    summary: dict[str, Any] = {"exited": total, "conserved": conserved,
                               "exits_per_step": exited.sum(axis=0).tolist()}
    rows = boundary_estimates(sol)
    if rows:
        out.write("boundary values u(x) = E[g(X_exit)] (killed walkers worth the kill value), 95% normal"
                  " intervals; walkers still inside count as g_min / g_max at the two ends:\n")
        out.write(f"  {'start':>7}  {'walkers':>8}  {'inside':>8}  {'estimate':>10}  {'95% interval':>23}"
                  f"  {'exact':>10}  {'z':>6}  {'first passage':>13}  {'mean T':>7}  {'exact':>7}\n")
        coords = getattr(problem, "coords", None)
        for r in rows:
            ci = f"[{r['interval'][0]:.4f}, {r['interval'][1]:.4f}]"
            where = str(r["start"]) if coords is None else ",".join(f"{v:g}" for v in coords[r["start"]])
            out.write(f"  {where:>7}  {r['walkers']:>8,}  {r['inside_fraction']:>8.2%}"
                      f"  {r['estimate']:>10.4f}  {ci:>23}  {r['exact']:>10.4f}  {r['z']:>6.2f}"
                      f"  p = {r['first_passage_p']:<9.3g}"
                      f"  {r['mean_exit_step']:>7.2f}  {r['exact_mean_exit_step_within_run']:>7.2f}\n")
        out.write("  (exact: sparse solve of (I - Q) u = R g; first passage: chi-square of the exit steps"
                  " against (e_s Q^(m-1) R) 1;\n   mean T: exit step among walkers that left, exact within"
                  " the run)\n")
        if any(r["inside_fraction"] > 0.01 for r in rows):
            out.write("  (over 1% of the walkers are still inside: the estimate counts them at the middle of"
                      " [g_min, g_max] and the interval at its ends; run more model steps)\n")
        summary["boundary_values"] = rows
    return {"exits": summary}
