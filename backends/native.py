"""The native engine: the simulator's step kernel in C, built on first use.

The numba kernel (:mod:`spikec.backends._kernel`) is fast once loaded, but a
process pays for importing numba and loading its cached code before the
first step (0.4 to 0.8 s measured here), more than a whole run of a
million-synapse network takes. ``_native.c`` is the same kernel in C. The
first time a machine needs it, :func:`library` compiles it with the system C
compiler (``$CC``, else Python's own, else ``cc``) into a per-user cache
(``$SPIKEC_CACHE_DIR``, else ``$XDG_CACHE_HOME/spikec``, else
``~/.cache/spikec``), keyed by a hash of the source and flags, and every
later process loads it in about a millisecond with :mod:`ctypes`. Without a
compiler the simulator uses numba or numpy instead (``engine="auto"``), or
says what is missing (``engine="native"``).

It is compiled with ``-ffp-contract=off`` and without fast-math, so its
float sums are those of the other engines, bit for bit (the tests run every
behavioural test on every engine). Trials run in parallel on threads, one
trial per call: a ctypes call releases the GIL, and the pool is sized to the
cores this process may use.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import hashlib
import os
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["library", "unavailable", "run_block", "cores"]

_FLAGS = ("-O2", "-fPIC", "-shared", "-ffp-contract=off", "-fno-fast-math")
_STATE: dict[str, Any] = {}
_P = ctypes.c_void_p
_I = ctypes.c_int64
_ARGTYPES = [_I] * 7 + [_P] * 7 + [_P, _P, _I] + [_P, _P, _I] + [_P, _P, _I] + [_P, _P] + [_P, _P] + [_P] * 4


#: A ceiling on the kernel's threads set by :func:`thread_limit` for the calling thread (a
#: Dask task is given one thread of its worker: its run must not start more).
_THREAD_LIMIT: contextvars.ContextVar[int | None] = contextvars.ContextVar("spikec_threads", default=None)


@contextlib.contextmanager
def thread_limit(threads: int | None) -> Iterator[None]:
    """Within the block, runs started from this thread use at most ``threads`` kernel
    threads (None: no ceiling)."""
    token = _THREAD_LIMIT.set(threads)
    try:
        yield
    finally:
        _THREAD_LIMIT.reset(token)


def cores() -> int:
    """Threads for trials: ``$SPIKEC_THREADS`` when set, else the cores this process may run
    on (its CPU affinity, not the machine's total); at most a :func:`thread_limit`."""
    limit = _THREAD_LIMIT.get()
    found = _cores()
    return found if limit is None else max(1, min(found, limit))


def _cores() -> int:
    given = os.environ.get("SPIKEC_THREADS", "").strip()
    if given.isdigit() and int(given) >= 1:
        return int(given)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _cache_dir() -> Path:
    given = os.environ.get("SPIKEC_CACHE_DIR")
    if given:
        return Path(given)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "spikec"


def _compiler() -> list[str] | None:
    for text in (os.environ.get("CC"), sysconfig.get_config_var("CC"), "cc", "gcc", "clang"):
        if text:
            words = shlex.split(text)
            if words and shutil.which(words[0]):
                return words
    return None


def _build(source: bytes, target: Path, compiler: list[str]) -> str | None:
    """Compile ``source`` into ``target`` (atomically); return why not, or None."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(prefix="spikec-native-") as work:
        src = Path(work) / "_native.c"
        src.write_bytes(source)
        out = Path(work) / target.name
        try:
            done = subprocess.run([*compiler, *_FLAGS, "-o", str(out), str(src)], capture_output=True,
                                  text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{compiler[0]} failed: {exc}"
        if done.returncode != 0 or not out.exists():
            return f"{compiler[0]} failed: {(done.stderr or done.stdout).strip().splitlines()[:1]}"
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        shutil.copyfile(out, tmp)
        os.replace(tmp, target)
    return None


def library() -> Any | None:
    """The loaded kernel function (building it the first time), or None when there is no
    C compiler or the build fails (:func:`unavailable` says why). Set ``SPIKEC_NATIVE=0``
    to never use it."""
    if "fn" in _STATE:
        return _STATE["fn"]
    _STATE["fn"] = None
    if os.environ.get("SPIKEC_NATIVE", "1") == "0":
        _STATE["why"] = "SPIKEC_NATIVE=0"
        return None
    source = resources.files("spikec.backends").joinpath("_native.c").read_bytes()
    compiler = _compiler()
    key = hashlib.sha256(source + " ".join(_FLAGS).encode() + (sysconfig.get_platform()).encode()).hexdigest()
    target = _cache_dir() / f"native-{key[:20]}.so"
    if not target.exists():
        if compiler is None:
            _STATE["why"] = "no C compiler found (set CC, or install gcc or clang)"
            return None
        try:
            why = _build(source, target, compiler)
        except OSError as exc:
            why = f"cannot write the kernel to {target.parent}: {exc.strerror or exc}"
        if why is not None:
            _STATE["why"] = why
            return None
    try:
        fn = ctypes.CDLL(str(target)).spikec_run_trial
    except (OSError, AttributeError) as exc:
        _STATE["why"] = f"cannot load {target}: {exc}"
        return None
    fn.restype = _I
    fn.argtypes = _ARGTYPES
    _STATE["fn"] = fn
    return fn


def load(filename: str, symbol: str, argtypes: list[Any]) -> tuple[Any | None, str]:
    """Function ``symbol`` (returning int64) of the C file ``filename`` of this package, built
    and cached as :func:`library` builds ``_native.c`` (same compiler, flags and cache); returns
    ``(function, "")``, or ``(None, why not)``. ``SPIKEC_NATIVE=0`` disables it too."""
    if os.environ.get("SPIKEC_NATIVE", "1") == "0":
        return None, "SPIKEC_NATIVE=0"
    source = resources.files("spikec.backends").joinpath(filename).read_bytes()
    key = hashlib.sha256(source + " ".join(_FLAGS).encode() + (sysconfig.get_platform()).encode()).hexdigest()
    target = _cache_dir() / f"{Path(filename).stem.lstrip('_')}-{key[:20]}.so"
    if not target.exists():
        compiler = _compiler()
        if compiler is None:
            return None, "no C compiler found (set CC, or install gcc or clang)"
        try:
            why = _build(source, target, compiler)
        except OSError as exc:
            why = f"cannot write the kernel to {target.parent}: {exc.strerror or exc}"
        if why is not None:
            return None, why
    try:
        fn = getattr(ctypes.CDLL(str(target)), symbol)
    except (OSError, AttributeError) as exc:
        return None, f"cannot load {target}: {exc}"
    fn.restype = _I
    fn.argtypes = argtypes
    return fn, ""


def unavailable() -> str:
    """Why :func:`library` returned None ('' when it did not)."""
    reason: str = _STATE.get("why", "")
    return reason


def _address(a: np.ndarray | None) -> int | None:
    if a is None:
        return None
    if not a.flags.c_contiguous:
        raise ValueError("the native kernel needs C-contiguous arrays")
    return int(a.ctypes.data)


def run_block(t0: int, t1: int, v: np.ndarray, ring: np.ndarray, bias: np.ndarray, thr: np.ndarray,
              keep: np.ndarray, reset: np.ndarray, input_pos: np.ndarray, stoch_pos: np.ndarray,
              p: np.ndarray, draws: np.ndarray, raster: np.ndarray, cur_pos: np.ndarray, cur: np.ndarray,
              rec_pos: np.ndarray, spikes_out: np.ndarray, pot_pos: np.ndarray, pots_out: np.ndarray,
              indptr: np.ndarray, offset: np.ndarray, weight: np.ndarray, events: np.ndarray) -> None:
    """Advance every trial from step t0 to t1: the arguments and effect of
    :func:`spikec.backends._kernel.run_block`, trials in parallel on threads."""
    fn = library()
    if fn is None:
        raise RuntimeError(f"the native kernel is not available: {unavailable()}")
    trials, n = v.shape
    ring_len = ring.shape[1] // n
    steps = spikes_out.shape[2]
    raster_u8 = raster.view(np.uint8)
    spikes_u8 = spikes_out.view(np.uint8)
    off32 = offset if offset.dtype == np.int32 else None
    off64 = offset if offset.dtype == np.int64 else None
    shared = [_address(x) for x in (bias, thr, keep, reset, p)]
    tail = [_address(input_pos), _address(raster_u8), raster.shape[2],
            _address(stoch_pos), _address(draws), draws.shape[2],
            _address(cur_pos), _address(cur), cur.shape[2],
            _address(rec_pos), _address(spikes_u8), _address(pot_pos), _address(pots_out),
            _address(indptr), _address(off32), _address(off64), _address(weight)]

    def one(b: int) -> int:
        delivered: int = fn(t0, t1, b, trials, n, ring_len, steps, _address(v[b]), _address(ring[b]),
                            *shared, *tail)
        return delivered

    workers = min(trials, cores())
    if workers <= 1:
        counts = [one(b) for b in range(trials)]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            counts = list(pool.map(one, range(trials)))
    events += np.asarray(counts, dtype=np.int64)
