// Graph coloring for sparse derivatives (Gebremedhin, Manne & Pothen, "What color is your
// Jacobian?", SIAM Review 2005): columns (or rows) that share a color are computed in one pass.

/** A boolean m x n sparsity pattern in compressed sparse row form (column indices sorted per row). */
export interface Pattern {
  m: number;
  n: number;
  indptr: Int32Array;
  indices: Int32Array;
}

/** A coloring: `colors[v]` in 0..count-1. */
export interface Coloring {
  colors: Int32Array;
  count: number;
}

/** The pattern's transpose (rows become columns), indices sorted. */
export function transposePattern(p: Pattern): Pattern {
  const indptr = new Int32Array(p.n + 1);
  for (let k = 0; k < p.indices.length; k++) indptr[p.indices[k] + 1]++;
  for (let j = 0; j < p.n; j++) indptr[j + 1] += indptr[j];
  const fill = indptr.slice(0, p.n);
  const indices = new Int32Array(p.indices.length);
  for (let i = 0; i < p.m; i++) for (let k = p.indptr[i]; k < p.indptr[i + 1]; k++) indices[fill[p.indices[k]]++] = i;
  return { m: p.n, n: p.m, indptr, indices };
}

/** Visits the neighbors of column j in the column intersection graph (columns sharing a row with j; j itself included). */
function forNeighbors(p: Pattern, t: Pattern, j: number, visit: (c: number) => void): void {
  for (let a = t.indptr[j]; a < t.indptr[j + 1]; a++) {
    const row = t.indices[a];
    for (let b = p.indptr[row]; b < p.indptr[row + 1]; b++) visit(p.indices[b]);
  }
}

/** Vertices by decreasing degree, ties by index: the largest-first ordering. */
function largestFirst(degree: Int32Array): Int32Array {
  const order = Int32Array.from(degree.keys());
  return order.sort((a, b) => degree[b] - degree[a] || a - b);
}

/**
 * Greedy distance-1 coloring of the column intersection graph in largest-first order: no two
 * columns with a nonzero in the same row share a color, so J S (S the color-seed matrix) holds
 * every nonzero of J once (Curtis–Powell–Reid).
 */
export function colorColumns(p: Pattern): Coloring {
  const t = transposePattern(p);
  const mark = new Int32Array(p.n).fill(-1);
  const degree = new Int32Array(p.n);
  for (let j = 0; j < p.n; j++) {
    let d = 0;
    forNeighbors(p, t, j, (c) => {
      if (c !== j && mark[c] !== j) {
        mark[c] = j;
        d++;
      }
    });
    degree[j] = d;
  }
  const colors = new Int32Array(p.n).fill(-1);
  const forbidden = new Int32Array(p.n + 1).fill(-1);
  let count = 0;
  for (const j of largestFirst(degree)) {
    forNeighbors(p, t, j, (c) => {
      if (colors[c] >= 0) forbidden[colors[c]] = j;
    });
    let c = 0;
    while (forbidden[c] === j) c++;
    colors[j] = c;
    if (c + 1 > count) count = c + 1;
  }
  return { colors, count };
}

/** Coloring of the rows (reverse mode: one vector-Jacobian product per row color). */
export function colorRows(p: Pattern): Coloring {
  return colorColumns(transposePattern(p));
}

/**
 * Greedy star coloring of a symmetric pattern's adjacency graph (GMP 2005, Algorithm 4.1): a
 * distance-1 coloring in which every path on four vertices uses at least three colors, so each
 * nonzero h_ij of a symmetric matrix is read directly from H S, at (i, color j) or (j, color i).
 */
export function starColoring(p: Pattern): Coloring {
  const n = p.n;
  const adj = (v: number, visit: (w: number) => void): void => {
    for (let k = p.indptr[v]; k < p.indptr[v + 1]; k++) if (p.indices[k] !== v) visit(p.indices[k]);
  };
  const degree = new Int32Array(n);
  for (let v = 0; v < n; v++) adj(v, () => degree[v]++);
  const colors = new Int32Array(n).fill(-1);
  const forbidden = new Int32Array(n + 1).fill(-1);
  let count = 0;
  for (const v of largestFirst(degree)) {
    adj(v, (w) => {
      if (colors[w] >= 0) forbidden[colors[w]] = v;
      adj(w, (x) => {
        if (x === v || colors[x] < 0) return;
        if (colors[w] < 0) {
          forbidden[colors[x]] = v;
          return;
        }
        // v taking x's color would make v-w-x-y two-colored if some y next to x has w's color.
        let twoColored = false;
        adj(x, (y) => {
          if (y !== w && colors[y] === colors[w]) twoColored = true;
        });
        if (twoColored) forbidden[colors[x]] = v;
      });
    });
    let c = 0;
    while (forbidden[c] === v) c++;
    colors[v] = c;
    if (c + 1 > count) count = c + 1;
  }
  return { colors, count };
}
