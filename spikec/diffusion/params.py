"""The ``diffusion`` statement's parameters beyond a constant-coefficient 1D/2D mesh.

:func:`statement_problem` is what ``diffusion NAME (...)`` builds its problem with. A
statement with only the parameters of :data:`~spikec.diffusion.problem.PROBLEM_PARAMS`
is a :class:`~spikec.diffusion.problem.Problem`, exactly as before. Any of these makes it
a :class:`~spikec.diffusion.chain.Chain`:

- ``nz``: a 3D grid (``nx``, ``ny``, ``nz`` nodes; walls ``front``/``back`` at z = 0 / last z,
  ``drift_z``, ``source_z``);
- ``D``, ``kill``, ``drift``, ``drift_y``, ``drift_z`` given as text: a file of one value
  per node (a name ending in ``.npy``, ``.csv`` or ``.txt``, read as ``counts`` files are but
  any real numbers allowed) or an expression of the node coordinates ``x``, ``y``, ``z``
  (``"1 + 0.5 * sin(pi * x)"``: numbers, ``+ - * / **``, parentheses, ``pi``, ``e`` and
  ``sin cos tan exp log sqrt abs tanh``);
- ``form``: ``"divergence"`` (default) or ``"fokker_planck"``, how a variable D enters;
- ``sources``: walkers injected every model step: a number (at the point source node), or a
  file of one count per node (constant) or a table of one row per model step;
- ``chain``: a transition matrix file (``.npz``, ``.mtx``, ``.csv``), with ``steps``, ``dt``
  (default 1), ``walkers`` at node ``source`` (default the middle) or ``counts``, and
  ``sources``.

A boundary-value problem (:mod:`spikec.diffusion.exits`) adds ``boundary_values`` (a number
for every exit; ``"left = 1, top = 0.5, ..."`` per wall; a file of one value per node; or an
expression of ``x, y, z`` evaluated where the walker leaves: the ghost node beyond a wall, the
node itself when killed), ``start`` (start points: ``"5"`` or ``"3; 7"`` nodes of a 1D mesh or a
chain, ``"5, 5; 2, 8"`` grid indices; default the source node) and ``kill_value`` (what a killed
walker is worth, default 0); ``walkers`` are then per start point, each start point a copy of
the chain in one circuit.
"""

from __future__ import annotations

import ast
import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from spikec.diffusion.chain import Chain, chain_from_matrix, grid_chain
from spikec.diffusion.counts import _counts_file
from spikec.diffusion.problem import (
    MAX_NODES,
    MAX_STEPS,
    MAX_WALKERS,
    PROBLEM_PARAMS,
    Problem,
    _boundary,
    _int,
    _real,
    problem_from_params,
)
from spikec.errors import DiffusionError, did_you_mean

__all__ = ["EXTRA_PARAMS", "EXIT_PARAMS", "statement_problem", "node_values", "extended"]

#: Parameters a statement takes besides PROBLEM_PARAMS (module docstring).
EXTRA_PARAMS: dict[str, str] = {
    "nz": "mesh nodes along z (a 3D grid)",
    "front": "boundary at z = 0", "back": "boundary at the last z node",
    "drift_z": "advection velocity along z", "source_z": "z node of the point source",
    "form": "'divergence' (default) or 'fokker_planck': how a variable D enters the equation",
    "sources": "walkers injected per model step: a number (at the source node) or a file",
    "chain": "a transition matrix file (.npz, .mtx, .csv): a general Markov chain",
}
#: Parameters of a boundary-value problem (module docstring).
EXIT_PARAMS: dict[str, str] = {
    "boundary_values": "g at the exits: a number, 'left = 1, top = 0, ...', a file per node or an expression"
                       " of x, y, z at the exit point",
    "start": "start points of u(x) = E[g(X_exit)]: '5' or '3; 7' (nodes), '5, 5; 2, 8' (grid indices)",
    "kill_value": "what a killed walker contributes to u (default 0: the Feynman-Kac form)",
}
_VARIABLE = ("D", "kill", "drift", "drift_y", "drift_z")
_FUNCTIONS = {"sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
              "abs": np.abs, "tanh": np.tanh}
_MAX_EXPRESSION = 500
_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def _path(value: str, base_dir: str | None) -> str:
    return value if base_dir is None or os.path.isabs(value) else os.path.join(base_dir, value)


def _is_file(value: Any) -> bool:
    return isinstance(value, str) and value.endswith((".npy", ".csv", ".txt"))


def node_values(name: str, value: Any, coords: dict[str, np.ndarray], base_dir: str | None) -> Any:
    """A coefficient as a number, or (text) one value per node from a file or an expression."""
    if not isinstance(value, str):
        return value
    if _is_file(value):
        path = _path(value, base_dir)
        if not os.path.isfile(path):
            raise DiffusionError(f"{name} file not found: {path}")
        return _counts_file(path, os.path.realpath(path)).reshape(-1)
    return _evaluate(name, value, coords)


def _evaluate(name: str, text: str, coords: dict[str, np.ndarray]) -> np.ndarray:
    """``text`` as an expression of the coordinates (module docstring), one value per node."""
    if len(text) > _MAX_EXPRESSION:
        raise DiffusionError(f"{name}: an expression has at most {_MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise DiffusionError(f"{name}: '{text}' is neither a file (.npy, .csv, .txt) nor an expression of"
                             " x, y, z") from None
    names = {"pi": math.pi, "e": math.e, **coords}

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            inner = walk(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.BinOp) and isinstance(node.op, _BINARY):
            a, b = walk(node.left), walk(node.right)
            ops = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
                   ast.Pow: np.power}
            with np.errstate(all="ignore"):
                return ops[type(node.op)](np.asarray(a, dtype=float), np.asarray(b, dtype=float))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS \
                and len(node.args) == 1 and not node.keywords:
            with np.errstate(all="ignore"):
                return _FUNCTIONS[node.func.id](np.asarray(walk(node.args[0]), dtype=float))
        shown = ast.get_source_segment(text, node) or type(node).__name__
        raise DiffusionError(f"{name}: '{shown}' is not allowed in an expression (numbers, x, y, z, pi, e,"
                             f" + - * / **, {', '.join(_FUNCTIONS)})")

    out = np.broadcast_to(np.asarray(walk(tree), dtype=float), next(iter(coords.values())).shape)
    if not np.all(np.isfinite(out)):
        first = int(np.flatnonzero(~np.isfinite(out))[0])
        raise DiffusionError(f"{name}: '{text}' is not a finite number at node {first}")
    return np.ascontiguousarray(out)


def extended(params: Mapping[str, Any]) -> bool:
    """True when ``params`` state a general chain (module docstring), not a Problem."""
    return any(k in params for k in EXTRA_PARAMS) or any(isinstance(params.get(k), str) for k in _VARIABLE)


def statement_problem(params: Mapping[str, Any], base_dir: str | None = None) -> Problem | Chain:
    """The problem a ``diffusion`` statement states (module docstring)."""
    known = {**PROBLEM_PARAMS, **EXTRA_PARAMS, **EXIT_PARAMS}
    unknown = [k for k in params if k not in known]
    if unknown:
        raise DiffusionError(f"unknown parameter '{unknown[0]}'{did_you_mean(unknown[0], known)};"
                             f" a diffusion problem takes {', '.join(known)}")
    if any(k in params for k in EXIT_PARAMS):
        return _exit_statement(params, base_dir)
    if not extended(params):
        return problem_from_params(params, base_dir)
    if "chain" in params:
        return _chain_statement(params, base_dir)
    return _grid_statement(params, base_dir)


def _sources(params: Mapping[str, Any], nodes: int, where: int, base_dir: str | None) -> np.ndarray | None:
    value = params.get("sources")
    if value is None:
        return None
    if isinstance(value, str):
        path = _path(value, base_dir)
        if not _is_file(value) or not os.path.isfile(path):
            raise DiffusionError(f"sources file not found (a .npy, .csv or .txt file): {path}")
        table = _counts_file(path, os.path.realpath(path))
        if table.size == nodes:
            return table.reshape(-1)
        if table.size % nodes:
            raise DiffusionError(f"sources: a file holds one count per node ({nodes:,}) or a table of one row"
                                 f" per model step; this one has shape {table.shape}")
        return table.reshape(-1, nodes)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) or value < 0:
        raise DiffusionError(f"sources must be a number of walkers >= 0 or a file, got {value!r}")
    out = np.zeros(nodes, dtype=np.int64)
    out[where] = int(value)
    return out


def _chain_statement(params: Mapping[str, Any], base_dir: str | None) -> Chain:
    value = params["chain"]
    if not isinstance(value, str):
        raise DiffusionError(f"chain must be a file name, got {value!r}")
    for k in ("nx", "ny", "nz", "D", "dx", "drift", "drift_y", "drift_z", "kill", "form", "boundary"):
        if k in params:
            raise DiffusionError(f"'{k}' is a mesh parameter; a chain's walk is its transition matrix")
    for required in ("steps",):
        if required not in params:
            raise DiffusionError(f"missing parameter '{required}' ({PROBLEM_PARAMS[required]})")
    from spikec.diffusion.chain_files import read_matrix

    path = _path(value, base_dir)
    mat = read_matrix(path)
    n = mat.shape[0]
    initial: Any = None
    if "counts" in params:
        initial = _counts_file(_path(params["counts"], base_dir), os.path.realpath(_path(params["counts"],
                                                                                            base_dir)))
    start = _int("source", params.get("source", (n - 1) // 2), 0, n - 1)
    return chain_from_matrix(mat, steps=_int("steps", params["steps"], 0, MAX_STEPS), initial=initial,
                             walkers=_int("walkers", params.get("walkers", 0), 0, MAX_WALKERS),
                             start=start, dt=_real("dt", params.get("dt", 1.0), positive=True),
                             sources=_sources(params, n, start, base_dir),
                             method=str(params.get("method", "density")), label=f"chain {value}")


def _exit_statement(params: Mapping[str, Any], base_dir: str | None) -> Chain:
    """A boundary-value problem: the statement's problem, its exit columns and values, one copy
    per start point (:func:`spikec.diffusion.exits.with_boundary_values`)."""
    from spikec.diffusion.exits import loss_exits, wall_exits, with_boundary_values

    if "boundary_values" not in params:
        raise DiffusionError("'start' and 'kill_value' need 'boundary_values' (g at the exits)")
    for k in ("counts", "sources"):
        if k in params:
            raise DiffusionError(f"boundary values need every walker to start at a start point: remove '{k}'")
    rest = {k: v for k, v in params.items() if k not in EXIT_PARAMS}
    if "start" in params:
        rest.pop("source", None)
    base = statement_problem(rest, base_dir)
    if isinstance(base, Problem):
        shape: tuple[int, ...] = base.shape
        cols = wall_exits(base.shape, base.D, base.dx, base.dt, base.boundary, drift=np.asarray(base.drift),
                          kill=base.kill)
    elif "chain" in params:
        shape = (base.nodes,)
        cols = loss_exits(base.losses, base.coords)
    else:
        args = _grid_args(rest, base_dir)
        shape = args["shape"]
        cols = wall_exits(shape, args["D"], args["dx"], args["dt"], args["boundary"], drift=args["drift"],
                          kill=args["kill"], form=args["form"])
    values = _boundary_values(params["boundary_values"], cols, base.nodes, base_dir)
    kill_value = _real("kill_value", params.get("kill_value", 0.0))
    start = _start_points(params["start"], shape) if "start" in params else None
    walkers = _int("walkers", params["walkers"], 0, MAX_WALKERS) if "walkers" in params else None
    return with_boundary_values(base, values, start, walkers, kill_value=kill_value, columns=cols)


def _boundary_values(value: Any, cols: Mapping[str, Any], nodes: int, base_dir: str | None) -> Any:
    """``boundary_values`` as :func:`~spikec.diffusion.exits.with_boundary_values` takes them."""
    if not isinstance(value, str):
        return _real("boundary_values", value)
    if _is_file(value):
        return node_values("boundary_values", value, {"x": np.zeros(nodes)}, base_dir)
    if "=" in value:
        out: dict[str, float] = {}
        for part in value.split(","):
            name, eq, number = part.partition("=")
            try:
                out[name.strip()] = float(number)
            except ValueError:
                raise DiffusionError(f"boundary_values: '{part.strip()}' is not 'wall = number'") from None
            if not eq or not name.strip():
                raise DiffusionError(f"boundary_values: '{part.strip()}' is not 'wall = number'")
        return out
    where = cols.get("where")
    if where is None:
        raise DiffusionError("boundary_values: an expression needs exit positions; a chain file has none,"
                             " give a number or a file of one value per node")
    where = np.asarray(where, dtype=float).reshape(len(cols["node"]), -1)
    coords = {a: (where[:, i] if i < where.shape[1] else np.zeros(len(where))) for i, a in enumerate("xyz")}
    if not len(where):
        return 0.0
    values = _evaluate("boundary_values", value, coords)

    def at_exits(*_: Any) -> np.ndarray:
        return values

    return at_exits


def _start_points(value: Any, shape: tuple[int, ...]) -> list[Any]:
    """``start``: a number (a node), or text of points separated by ';', each a node or grid index."""
    if not isinstance(value, str):
        node = _int("start", value, 0, math.prod(shape) - 1)
        return [node]
    points: list[Any] = []
    for part in value.split(";"):
        try:
            idx = tuple(int(v) for v in part.split(","))
        except ValueError:
            raise DiffusionError(f"start: '{part.strip()}' is not a node or grid index (integers)") from None
        points.append(idx if len(idx) > 1 else idx[0])
    return points


def _grid_statement(params: Mapping[str, Any], base_dir: str | None) -> Chain:
    args = _grid_args(params, base_dir)
    return grid_chain(args["shape"], D=args["D"], dt=args["dt"], steps=args["steps"], initial=args["initial"],
                      dx=args["dx"], boundary=args["boundary"], drift=args["drift"], kill=args["kill"],
                      form=args["form"], sources=args["sources"], method=args["method"])


def _grid_args(params: Mapping[str, Any], base_dir: str | None) -> dict[str, Any]:
    for required in ("nx", "D", "dt", "steps"):
        if required not in params:
            raise DiffusionError(f"missing parameter '{required}' ({PROBLEM_PARAMS[required]})")
    if "nz" in params and "ny" not in params:
        raise DiffusionError("'nz' needs 'ny' too (a 3D grid)")
    axes = ("nx", "ny", "nz") if "nz" in params else ("nx", "ny") if int(params.get("ny", 1)) > 1 else ("nx",)
    shape = tuple(_int(k, params[k], 1, MAX_NODES) for k in axes)
    if math.prod(shape) > MAX_NODES:
        raise DiffusionError(f"the mesh has {math.prod(shape):,} nodes, over the limit of {MAX_NODES:,}")
    dx = _real("dx", params.get("dx", 1.0), positive=True)
    dt = _real("dt", params["dt"], positive=True)
    steps = _int("steps", params["steps"], 0, MAX_STEPS)
    grids = np.meshgrid(*[np.arange(s) * dx for s in shape], indexing="ij")
    coords = {a: g.reshape(-1) for a, g in zip("xyz", grids, strict=False)}
    coords.update({a: np.zeros(math.prod(shape)) for a in "xyz"[len(shape):]})
    n = math.prod(shape)
    default = _boundary("boundary", params.get("boundary", "reflecting"))
    walls = [("left", "right"), ("bottom", "top"), ("front", "back")]
    for lo, hi in walls[len(shape):]:
        for k in (lo, hi):
            if k in params:
                raise DiffusionError(f"'{k}' needs a mesh with that axis")
    boundary = [(_boundary(lo, params.get(lo, default)), _boundary(hi, params.get(hi, default)))
                for lo, hi in walls[: len(shape)]]
    drift = np.stack([np.broadcast_to(np.asarray(node_values(k, params.get(k, 0.0), coords, base_dir),
                                                 dtype=float), (n,))
                      for k in ("drift", "drift_y", "drift_z")[: len(shape)]], axis=1)
    where = tuple(int(params.get(k, (s - 1) // 2)) for k, s in zip(("source", "source_y", "source_z"), shape,
                                                                   strict=False))
    if any(not 0 <= w < s for w, s in zip(where, shape, strict=True)):
        raise DiffusionError(f"source {where} is outside the mesh {shape}")
    at = int(np.ravel_multi_index(where, shape))
    if "counts" in params:
        path = _path(params["counts"], base_dir)
        initial: Any = _counts_file(path, os.path.realpath(path))
    else:
        if "walkers" not in params:
            raise DiffusionError("missing parameter 'walkers' (walkers at the point source) or 'counts'")
        initial = np.zeros(n, dtype=np.int64)
        initial[at] = _int("walkers", params["walkers"], 0, MAX_WALKERS)
    return {"shape": shape, "D": node_values("D", params["D"], coords, base_dir), "dt": dt, "steps": steps,
            "initial": initial, "dx": dx, "boundary": boundary, "drift": drift,
            "kill": node_values("kill", params.get("kill", 0.0), coords, base_dir),
            "form": str(params.get("form", "divergence")), "sources": _sources(params, n, at, base_dir),
            "method": str(params.get("method", "density"))}
