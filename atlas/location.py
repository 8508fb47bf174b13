"""Where should k new hospitals go: coverage matrices, greedy and exact MCLP, p-median, what-if.

The cost (or coverage) matrix is computed once and kept apart from the models, as in spopt's
``from_cost_matrix``: every function here takes a ``demand × sites`` matrix, so a 3×4 matrix tests
it. Coverage is always measured in **demand units** (people, or the stated proxy), never in demand
points: spopt's own ``perc_cov`` counts points and is not used.

Exact models are built with spopt's :class:`~spopt.locate.MCLP` / :class:`~spopt.locate.PMedian`
classes and solved with PuLP's bundled CBC (``PULP_CBC_CMD``) under a time limit, warm-started
from the greedy solution. The MCLP is handed *sparse* coverage sets (spopt's ``from_cost_matrix``
builds a dense ``demand × sites`` array, 2 GB at 50,000 × 5,000), after exact reductions: demand
already covered by the existing hospitals (fixed open) is a constant, demand no candidate reaches
is dropped, and demand points with identical coverage sets are merged with summed weights.

The optimality gap is always reported against a *valid* upper bound: CBC's bound when it solved
the whole reduced model, and the submodularity bound of Nemhauser & Wolsey (1978) —
``f(OPT) ≤ f(S) + sum of the k largest marginal gains over S`` — which holds for coverage and for
p-median savings alike and costs one sparse product.
"""

from __future__ import annotations

import heapq
import logging
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pulp
from scipy import sparse
from scipy.spatial import cKDTree
from spopt.locate import MCLP, PMedian
from spopt.locate.base import FacilityModelBuilder

from ._errors import ConfigError, DataError

__all__ = [
    "SOLVER_NAME",
    "GreedyResult",
    "MCLPResult",
    "PMedianResult",
    "coverage_from_cost",
    "coverage_from_points",
    "covered_demand",
    "greedy_mclp",
    "marginal_gains",
    "solve_mclp",
    "solve_pmedian",
]

log = logging.getLogger(__name__)

#: the solver every exact model uses (PuLP's bundled COIN-OR CBC, one thread)
SOLVER_NAME = f"COIN-OR CBC (PuLP {pulp.__version__} PULP_CBC_CMD) vía spopt"

#: above this many non-zeros the MCLP is solved on a shortlist of candidates (see solve_mclp)
DEFAULT_MAX_NNZ = 150_000
DEFAULT_SHORTLIST = 200
#: p-median assignment variables allowed (spopt's PMedian is dense: demand × sites)
DEFAULT_MAX_CELLS = 60_000


# --------------------------------------------------------------------------- matrices


def coverage_from_points(demand_xy: np.ndarray, sites_xy: np.ndarray, radius: float) -> sparse.csr_matrix:
    """Boolean ``demand × sites`` matrix: True where a site is within ``radius`` (same units).

    Coordinates must be metric (project with :func:`atlas.geo.to_metric` first): a radius in
    metres over degrees would be meaningless.

    Examples
    --------
    >>> m = coverage_from_points(np.array([[0, 0], [10, 0]]), np.array([[0, 1], [50, 0]]), 5)
    >>> m.toarray().tolist()
    [[True, False], [False, False]]
    """
    d = _xy(demand_xy, "demand_xy")
    s = _xy(sites_xy, "sites_xy")
    if not np.isfinite(radius) or radius < 0:
        raise ConfigError(f"radius was {radius!r} but is expected to be a finite number ≥ 0.")
    if len(d) == 0 or len(s) == 0:
        return sparse.csr_matrix((len(d), len(s)), dtype=bool)
    pairs = cKDTree(d).sparse_distance_matrix(cKDTree(s), radius, output_type="ndarray")
    # sparse_distance_matrix keeps zero distances in "ndarray" output (a site on a demand point)
    data = np.ones(len(pairs), dtype=bool)
    return sparse.csr_matrix((data, (pairs["i"], pairs["j"])), shape=(len(d), len(s)), dtype=bool)


def coverage_from_cost(cost, service: float) -> sparse.csr_matrix:
    """Boolean coverage from a cost matrix (km, minutes…): ``cost <= service``.

    ``cost`` is a dense array (``nan``/``inf`` = unreachable) or a scipy sparse matrix whose
    *stored* entries are the reachable pairs (explicit zeros count as cost 0).
    """
    if not np.isfinite(service) or service < 0:
        raise ConfigError(f"service was {service!r} but is expected to be a finite number ≥ 0.")
    if sparse.issparse(cost):
        c = sparse.coo_matrix(cost)
        keep = np.isfinite(c.data) & (c.data <= service)
        return sparse.csr_matrix(
            (np.ones(keep.sum(), dtype=bool), (c.row[keep], c.col[keep])), shape=c.shape, dtype=bool
        )
    arr = np.asarray(cost, dtype=float)
    if arr.ndim != 2:
        raise DataError(f"cost matrix has shape {arr.shape} but is expected to be 2-D (demand × sites).")
    with np.errstate(invalid="ignore"):
        return sparse.csr_matrix(np.isfinite(arr) & (arr <= service))


def covered_demand(cover, weights, open_sites=(), base=None) -> float:
    """Demand covered by the ``open_sites`` columns of ``cover``, plus ``base`` (already covered)."""
    cover, w = _check_cover(cover, weights)
    mask = _base_mask(base, cover.shape[0])
    cols = list(open_sites)
    if cols:
        mask = mask | (cover[:, cols].getnnz(axis=1) > 0)
    return float(w[mask].sum())


def marginal_gains(cover, weights, base=None) -> np.ndarray:
    """Demand each site would add on top of ``base`` (a bool mask or an existing-coverage matrix)."""
    cover, w = _check_cover(cover, weights)
    mask = _base_mask(base, cover.shape[0])
    return np.asarray(cover.T.astype(np.float64) @ np.where(mask, 0.0, w)).ravel()


# --------------------------------------------------------------------------- greedy


@dataclass(frozen=True)
class GreedyResult:
    """Sites in the order the greedy picked them and the demand each one added."""

    selected: tuple[int, ...]
    gains: tuple[float, ...]
    base: float
    covered: float


def greedy_mclp(cover, weights, k: int, *, base=None) -> GreedyResult:
    """Lazy greedy for the maximal covering problem: repeatedly add the site that covers the most
    still-uncovered demand. Ties go to the lower column index. ``base`` is the demand already
    covered by the existing hospitals (bool mask or coverage matrix of the existing hospitals).

    The result is within ``1 - 1/e`` of the optimum (coverage is submodular) and is the warm start
    of :func:`solve_mclp`.

    Examples
    --------
    >>> cover = np.array([[1, 0], [1, 1], [0, 1]], dtype=bool)
    >>> greedy_mclp(cover, [5, 1, 3], 1).selected
    (0,)
    """
    cover, w = _check_cover(cover, weights)
    k = _check_k(k, cover.shape[1])
    covered = _base_mask(base, cover.shape[0]).copy()
    csc = cover.tocsc()
    base_total = float(w[covered].sum())
    live = np.where(covered, 0.0, w)
    heap = [(-g, j) for j, g in enumerate(np.asarray(csc.T.astype(np.float64) @ live).ravel())]
    heapq.heapify(heap)
    selected: list[int] = []
    gains: list[float] = []
    while len(selected) < k and heap:
        neg, j = heapq.heappop(heap)
        rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        gain = float(w[rows][~covered[rows]].sum())
        if heap and gain < -heap[0][0] - 1e-9 * max(1.0, gain):
            heapq.heappush(heap, (-gain, j))  # stale bound: re-queue with the fresh gain
            continue
        selected.append(int(j))
        gains.append(gain)
        covered[rows] = True
    return GreedyResult(tuple(selected), tuple(gains), base_total, base_total + float(sum(gains)))


def _ordered_gains(csc, w, covered0, chosen) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Order a chosen set greedily and give each site's marginal gain (they sum to the total)."""
    covered = covered0.copy()
    left = list(chosen)
    order, gains = [], []
    while left:
        best, best_gain = None, -1.0
        for j in left:
            rows = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
            g = float(w[rows][~covered[rows]].sum())
            if g > best_gain or (g == best_gain and j < best):
                best, best_gain = j, g
        rows = csc.indices[csc.indptr[best] : csc.indptr[best + 1]]
        covered[rows] = True
        order.append(int(best))
        gains.append(best_gain)
        left.remove(best)
    return tuple(order), tuple(gains)


# --------------------------------------------------------------------------- exact MCLP


@dataclass(frozen=True)
class MCLPResult:
    """Outcome of :func:`solve_mclp`. Demand figures are in demand units (people or the proxy)."""

    k: int
    selected: tuple[int, ...]
    gains: tuple[float, ...]
    demand_total: float
    covered_before: float
    covered_after: float
    greedy_selected: tuple[int, ...]
    greedy_covered: float
    upper_bound: float
    gap: float
    status: str
    solver: str
    seconds: float
    model: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def solve_mclp(
    cover,
    weights,
    k: int,
    *,
    base=None,
    time_limit: float = 60.0,
    max_nnz: int = DEFAULT_MAX_NNZ,
    shortlist: int = DEFAULT_SHORTLIST,
) -> MCLPResult:
    """Choose ``k`` sites (columns of ``cover``) maximising the demand covered, with the existing
    hospitals fixed as already open (``base``).

    Parameters
    ----------
    cover
        Boolean ``demand × candidates`` matrix (dense or scipy sparse).
    weights
        Demand per row (people or the proxy), finite and ≥ 0.
    k
        New sites to open (``0 ≤ k ≤ n_candidates``).
    base
        Demand already covered by existing hospitals: bool mask, or their ``demand × hospitals``
        coverage matrix.
    time_limit
        CBC wall-clock limit in seconds; when it stops early the best solution found is kept
        (never worse than the greedy start) and the gap says how far it can be from optimal.
    max_nnz, shortlist
        When the reduced model has more than ``max_nnz`` coverage pairs, the MIP is solved over the
        ``shortlist`` candidates with the largest stand-alone gain (plus the greedy picks); the
        reported gap still bounds the distance to the optimum over *all* candidates.

    Returns
    -------
    MCLPResult
        ``selected`` in marginal-gain order, with ``gains`` summing to
        ``covered_after - covered_before``.
    """
    t0 = time.perf_counter()
    cover, w = _check_cover(cover, weights)
    k = _check_k(k, cover.shape[1])
    if not np.isfinite(time_limit) or time_limit <= 0:
        raise ConfigError(f"time_limit was {time_limit!r} but is expected to be a number of seconds > 0.")
    covered0 = _base_mask(base, cover.shape[0])
    csc = cover.tocsc()
    total = float(w.sum())
    before = float(w[covered0].sum())
    greedy = greedy_mclp(cover, w, k, base=covered0)

    red, w_red, cols = _reduce(cover, w, covered0)
    model = {"demand_rows": cover.shape[0], "candidates": cover.shape[1], "rows": red.shape[0],
             "cols": red.shape[1], "nnz": int(red.nnz), "shortlist": None}
    best = list(greedy.selected)
    cbc_bound = None
    lagr = np.inf
    if red.shape[1] <= k or red.nnz == 0:
        # every useful candidate fits: opening them all is optimal
        chosen = list(cols)
        best = chosen + [j for j in greedy.selected if j not in set(chosen)][: k - len(chosen)]
        status = "óptimo (trivial)"
    else:
        sub_cols = np.arange(red.shape[1])
        if red.nnz > max_nnz:
            lagr = before + _lagrangian_bound(red, w_red, k, greedy.covered - before, 0.15 * time_limit)
            sub_cols = _shortlist(red, w_red, cols, greedy.selected, shortlist)
            red, w_red, keep = _reduce(red[:, sub_cols], w_red, np.zeros(red.shape[0], bool))
            sub_cols = sub_cols[keep]
            model.update(shortlist=len(sub_cols), rows=red.shape[0], cols=red.shape[1], nnz=int(red.nnz))
        sub_global = cols[sub_cols]
        warm = [int(np.searchsorted(sub_global, j)) for j in greedy.selected if j in set(sub_global)]
        chosen_local, status, bound = _solve_mclp_model(red, w_red, k, warm, time_limit)
        if chosen_local is not None:
            cand = [int(sub_global[j]) for j in chosen_local]
            cand += [j for j in greedy.selected if j not in set(cand)][: k - len(cand)]
            if covered_demand(cover, w, cand, covered0) >= greedy.covered - 1e-9:
                best = cand
        if bound is not None and model["shortlist"] is None:
            cbc_bound = before + bound

    after = covered_demand(cover, w, best, covered0)
    order, gains = _ordered_gains(csc, w, covered0, best)
    covered = covered0 | (cover[:, best].getnnz(axis=1) > 0) if best else covered0
    nw = after + float(np.sort(marginal_gains(cover, w, covered))[::-1][:k].sum())
    upper = min(nw, lagr, cbc_bound if cbc_bound is not None else np.inf)
    if status.startswith("óptimo") and model["shortlist"] is None:
        upper = after
    elif status.startswith("óptimo"):
        status = "óptimo en la lista corta"
    upper = max(upper, after)
    gap = 0.0 if upper <= 0 else (upper - after) / upper
    return MCLPResult(
        k=k, selected=order, gains=gains, demand_total=total, covered_before=before, covered_after=after,
        greedy_selected=greedy.selected, greedy_covered=greedy.covered, upper_bound=upper, gap=gap,
        status=status, solver=SOLVER_NAME, seconds=time.perf_counter() - t0, model=model,
    )


def _lagrangian_bound(red: sparse.csr_matrix, w: np.ndarray, k: int, lower: float, seconds: float) -> float:
    """Upper bound on the reduced MCLP by Lagrangian relaxation of the coverage constraints.

    With multipliers ``0 ≤ λ_i ≤ w_i`` on ``y_i ≤ Σ_j a_ij x_j`` the relaxed problem separates:
    ``L(λ) = Σ_i (w_i − λ_i) + (sum of the k largest entries of Aᵀλ)``, a valid bound for every
    λ. Subgradient steps (Held–Karp rule, Polyak step towards ``lower``) tighten it; each step is
    one sparse product, so this scales to matrices far beyond what the MIP can take.
    """
    if red.shape[0] == 0 or k == 0:
        return 0.0
    at = red.T.tocsr().astype(np.float64)
    a = red.astype(np.float64)
    lam = w * 0.5
    best = np.inf
    theta, stall = 2.0, 0
    deadline = time.perf_counter() + seconds
    for _ in range(1000):
        g = at @ lam
        top = np.argpartition(-g, k - 1)[:k] if k < len(g) else np.arange(len(g))
        value = float(np.maximum(w - lam, 0).sum() + g[top].sum())
        if not np.isfinite(best) or value < best - 1e-9 * best:
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 20:
                theta, stall = theta / 2, 0
        if theta < 1e-4 or best - lower <= 1e-6 * max(1.0, best) or time.perf_counter() > deadline:
            break
        x = np.zeros(red.shape[1])
        x[top] = 1.0
        sub = (a @ x).clip(max=1.0) - (w > lam)
        norm = float(sub @ sub)
        if norm == 0:
            break
        lam = np.clip(lam - theta * (value - lower) / norm * sub, 0.0, w)
    return best


def _shortlist(red: sparse.csr_matrix, w: np.ndarray, cols: np.ndarray, greedy_sel, size: int) -> np.ndarray:
    """Diverse shortlist: at each greedy round, the candidates with the largest marginal gain.

    Ranking by stand-alone gain alone would pick ``size`` neighbours of the single best spot; taking
    the leaders of every round keeps alternatives for each area the greedy opened.
    """
    pos = {int(j): p for p, j in enumerate(cols)}
    picks = [pos[j] for j in greedy_sel if j in pos]
    per_round = max(1, size // max(1, len(picks) or 1))
    covered = np.zeros(red.shape[0], bool)
    keep: set[int] = set(picks)
    csc = red.tocsc()
    for p in [*picks, None]:
        g = np.asarray(csc.T.astype(np.float64) @ np.where(covered, 0.0, w)).ravel()
        keep.update(np.argsort(-g, kind="stable")[:per_round].tolist())
        if p is None or len(keep) >= size + len(picks):
            break
        covered[csc.indices[csc.indptr[p] : csc.indptr[p + 1]]] = True
    return np.array(sorted(keep), dtype=int)


def _reduce(cover: sparse.csr_matrix, w: np.ndarray, covered0: np.ndarray):
    """Exact reductions: drop covered and unreachable rows, merge identical rows, drop empty columns.

    Returns the reduced matrix, its weights and the original index of every kept column.
    """
    rows = ~covered0 & (cover.getnnz(axis=1) > 0) & (w > 0)
    sub = cover[np.flatnonzero(rows)].tocsr()
    ws = w[rows]
    sub.sort_indices()
    groups: dict[bytes, int] = {}
    gid = np.empty(sub.shape[0], dtype=np.int64)
    for i in range(sub.shape[0]):
        key = sub.indices[sub.indptr[i] : sub.indptr[i + 1]].tobytes()
        gid[i] = groups.setdefault(key, len(groups))
    first = np.unique(gid, return_index=True)[1]
    merged = sub[first]
    wm = np.bincount(gid, weights=ws, minlength=len(first))
    cols = np.flatnonzero(merged.getnnz(axis=0) > 0)
    return merged[:, cols].tocsr(), wm, cols


def _solve_mclp_model(red: sparse.csr_matrix, w: np.ndarray, k: int, warm: list[int], time_limit: float):
    """Build the MCLP with spopt's model classes over sparse coverage sets and solve it with CBC."""
    n, m = red.shape
    mclp = MCLP("mclp", pulp.LpProblem("mclp", pulp.LpMaximize))
    FacilityModelBuilder.add_facility_integer_variable(mclp, range(m), "x[{i}]")
    FacilityModelBuilder.add_client_integer_variable(mclp, range(n), "y[{i}]")
    x, y = mclp.fac_vars, mclp.cli_vars
    prob = mclp.problem
    prob += pulp.LpAffineExpression(zip(y, w.tolist())), "objective function"
    for i in range(n):
        cols = red.indices[red.indptr[i] : red.indptr[i + 1]]
        expr = pulp.LpAffineExpression([(x[j], 1) for j in cols] + [(y[i], -1)])
        prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, rhs=0))
    FacilityModelBuilder.add_facility_constraint(mclp, k)
    mclp.aij = red  # sparse: spopt's dense result helpers are not used
    open_ = set(warm)
    for j in range(m):
        x[j].setInitialValue(1 if j in open_ else 0)
    cov = red[:, sorted(open_)].getnnz(axis=1) > 0 if open_ else np.zeros(n, bool)
    for i in range(n):
        y[i].setInitialValue(1 if cov[i] else 0)
    sol = _run_cbc(prob, time_limit, warm=bool(open_))
    if sol is None:
        return None, "límite de tiempo sin solución del MIP: se usa la voraz", None
    status, bound = sol
    chosen = [j for j in range(m) if (x[j].value() or 0) > 0.5]
    return chosen, status, bound


def _run_cbc(prob: pulp.LpProblem, time_limit: float, *, warm: bool):
    """Solve with CBC; return (status text, bound from the log) or None without a solution."""
    with tempfile.TemporaryDirectory(prefix="atlas-cbc-") as tmp:
        log_path = Path(tmp) / "cbc.log"
        solver = pulp.PULP_CBC_CMD(
            msg=False, timeLimit=time_limit, warmStart=warm, threads=1, logPath=str(log_path)
        )
        prob.solve(solver)
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
    if prob.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return None
    if prob.sol_status == pulp.LpSolutionOptimal and "Optimal solution found" in text:
        return "óptimo", None
    m = re.search(r"(?:Upper|Lower) bound:\s*(-?[\d.eE+-]+)", text)
    bound = abs(float(m.group(1))) if m else None
    return "límite de tiempo (mejor solución encontrada)", bound


# --------------------------------------------------------------------------- p-median


@dataclass(frozen=True)
class PMedianResult:
    """Outcome of :func:`solve_pmedian`: weighted mean distance (or time) before and after."""

    k: int
    selected: tuple[int, ...]
    savings: tuple[float, ...]
    demand_total: float
    mean_cost_before: float
    mean_cost_after: float
    greedy_selected: tuple[int, ...]
    greedy_mean_cost: float
    lower_bound: float
    gap: float
    status: str
    solver: str
    seconds: float
    model: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def solve_pmedian(
    cost,
    weights,
    k: int,
    *,
    existing_cost=None,
    time_limit: float = 60.0,
    max_cells: int = DEFAULT_MAX_CELLS,
) -> PMedianResult:
    """p-median: choose ``k`` sites minimising the demand-weighted distance to the nearest open
    facility, existing hospitals fixed open.

    The existing hospitals enter spopt's :meth:`PMedian.from_cost_matrix` as **one** fixed column
    holding each demand point's cost to its nearest existing hospital (``existing_cost``) —
    exact, since all of them are open. Demand no candidate can improve is a constant and leaves the
    model; if ``demand × candidates`` still exceeds ``max_cells`` the candidates with the largest
    stand-alone saving are kept (reported in ``model["shortlist"]``). The gap is against a valid
    lower bound on the cost over all candidates (submodularity of the savings).
    """
    t0 = time.perf_counter()
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2:
        raise DataError(f"cost matrix has shape {c.shape} but is expected to be 2-D (demand × sites).")
    _, w = _check_cover(sparse.csr_matrix(c.shape, dtype=bool), weights)
    k = _check_k(k, c.shape[1])
    if np.isnan(c).any() or (c < 0).any():
        raise DataError("cost matrix has NaN or negative entries; use inf for unreachable pairs.")
    if existing_cost is not None:
        base = np.asarray(existing_cost, dtype=float).reshape(-1)
        if base.shape[0] != c.shape[0]:
            raise DataError(f"existing_cost has {base.shape[0]} rows but the cost matrix has {c.shape[0]}.")
        if not np.isfinite(base).all() or (base < 0).any():
            raise DataError("existing_cost must be finite and ≥ 0 for every demand point.")
    else:
        if not np.isfinite(c).all():
            raise DataError("without existing hospitals every cost must be finite (each demand needs a site).")
        # a virtual base no worse than any candidate: savings against it rank sites exactly
        base = c.max(axis=1, initial=0.0)
    c = np.minimum(c, base[:, None])
    total = float(w.sum())

    def weighted(sel) -> float:
        cur = base if not sel else np.minimum(base, c[:, list(sel)].min(axis=1))
        return float((w * cur).sum())

    def gains_over(cur) -> np.ndarray:
        return w @ (cur[:, None] - np.minimum(cur[:, None], c))

    g_sel: list[int] = []
    cur = base.copy()
    for _ in range(k):
        g = gains_over(cur)
        g[g_sel] = -1.0
        j = int(np.argmax(g))
        g_sel.append(j)
        cur = np.minimum(cur, c[:, j])
    greedy_cost = weighted(g_sel)

    improve = (c < base[:, None]) & (w[:, None] > 0)
    rows = np.flatnonzero(improve.any(axis=1))
    cols = np.flatnonzero(improve[rows].any(axis=0))
    model = {"demand_rows": c.shape[0], "candidates": c.shape[1], "rows": len(rows), "cols": len(cols),
             "shortlist": None}
    best = list(g_sel)
    status = "óptimo (trivial)"
    if len(cols) > k and len(rows):
        if len(rows) * (len(cols) + 1) > max_cells:
            n_keep = max_cells // len(rows) - 1
            if n_keep <= k:
                raise ConfigError(
                    f"p-median with {len(rows)} demand points exceeds max_cells={max_cells}; aggregate the "
                    "demand (coarser H3 resolution) or raise the limit."
                )
            single = gains_over(base)[cols]
            keep = set(cols[np.argsort(-single, kind="stable")[:n_keep]].tolist()) | set(g_sel)
            cols = np.array(sorted(keep))
            model["shortlist"] = len(cols)
        model["cols"] = len(cols)
        aug = np.hstack([c[np.ix_(rows, cols)], base[rows, None]])
        fixed = np.zeros(aug.shape[1], dtype=int)
        fixed[-1] = 1
        pm = PMedian.from_cost_matrix(aug, w[rows], p_facilities=k + 1, predefined_facilities_arr=fixed)
        col_pos = {int(j): p for p, j in enumerate(cols)}
        _warm_pmedian(pm, aug, [col_pos[j] for j in g_sel if j in col_pos])
        sol = _run_cbc(pm.problem, time_limit, warm=True)
        if sol is None:
            status = "límite de tiempo sin solución del MIP: se usa la voraz"
        else:
            status = sol[0]
            chosen = [int(cols[p]) for p in range(len(cols)) if (pm.fac_vars[p].value() or 0) > 0.5]
            chosen += [j for j in g_sel if j not in set(chosen)][: k - len(chosen)]
            if weighted(chosen) <= greedy_cost + 1e-9:
                best = chosen
    after = weighted(best)
    order, savings, cur = [], [], base.copy()
    left = list(best)
    while left:
        g = {j: float(w @ (cur - np.minimum(cur, c[:, j]))) for j in left}
        j = max(left, key=lambda t: (g[t], -t))
        order.append(j)
        savings.append(g[j])
        cur = np.minimum(cur, c[:, j])
        left.remove(j)
    exact = status.startswith("óptimo") and model["shortlist"] is None
    if status == "óptimo" and model["shortlist"] is not None:
        status = "óptimo en la lista corta"
    lower = after if exact else max(0.0, after - float(np.sort(gains_over(cur))[::-1][:k].sum()))
    gap = 0.0 if after <= 0 else (after - lower) / after
    denom = total or 1.0
    return PMedianResult(
        k=k, selected=tuple(order), savings=tuple(savings), demand_total=total,
        mean_cost_before=weighted([]) / denom if existing_cost is not None else float("nan"),
        mean_cost_after=after / denom, greedy_selected=tuple(g_sel), greedy_mean_cost=greedy_cost / denom,
        lower_bound=lower / denom, gap=gap, status=status, solver=SOLVER_NAME,
        seconds=time.perf_counter() - t0, model=model,
    )


def _warm_pmedian(pm, aug: np.ndarray, open_cols: list[int]) -> None:
    """Greedy start for spopt's PMedian: open sites, and each demand on its nearest open column."""
    m = aug.shape[1]
    is_open = np.zeros(m, bool)
    is_open[open_cols] = True
    is_open[-1] = True
    masked = np.where(is_open[None, :], aug, np.inf)
    nearest = masked.argmin(axis=1)
    for j in range(m - 1):
        pm.fac_vars[j].setInitialValue(1 if is_open[j] else 0)
    z = pm.cli_assgn_vars
    for i in range(aug.shape[0]):
        for j in range(m):
            z[i, j].setInitialValue(1 if nearest[i] == j else 0)


# --------------------------------------------------------------------------- validation


def _xy(arr, name: str) -> np.ndarray:
    a = np.asarray(arr, dtype=float)
    if a.size == 0:
        return a.reshape(0, 2)
    if a.ndim != 2 or a.shape[1] != 2:
        raise DataError(f"{name} has shape {a.shape} but is expected to be (n, 2) metric x, y.")
    if not np.isfinite(a).all():
        raise DataError(f"{name} has non-finite coordinates.")
    return a


def _check_cover(cover, weights):
    m = cover if sparse.issparse(cover) else sparse.csr_matrix(np.asarray(cover, dtype=bool))
    m = sparse.csr_matrix(m, dtype=bool)
    w = np.asarray(weights, dtype=float).reshape(-1)
    if w.shape[0] != m.shape[0]:
        raise DataError(f"weights has {w.shape[0]} values but the matrix has {m.shape[0]} demand rows.")
    if not np.isfinite(w).all() or (w < 0).any():
        raise DataError("weights must be finite and ≥ 0 (demand in people or the proxy).")
    return m, w


def _check_k(k, n_sites: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ConfigError(f"k was {k!r} but is expected to be an integer ≥ 0.")
    if k > n_sites:
        raise ConfigError(f"k was {k} but there are only {n_sites} candidate sites.")
    return int(k)


def _base_mask(base, n: int) -> np.ndarray:
    if base is None:
        return np.zeros(n, dtype=bool)
    if sparse.issparse(base) or np.ndim(base) == 2:
        b = sparse.csr_matrix(base, dtype=bool)
        if b.shape[0] != n:
            raise DataError(f"existing-hospital coverage has {b.shape[0]} rows but demand has {n}.")
        return b.getnnz(axis=1) > 0
    b = np.asarray(base, dtype=bool).reshape(-1)
    if b.shape[0] != n:
        raise DataError(f"base mask has {b.shape[0]} values but demand has {n}.")
    return b
