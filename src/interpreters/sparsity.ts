// Sparsity detection: which inputs each output element of a staged function depends on, found by
// propagating index sets through its jaxpr (each primitive's `sparsity` rule says how they flow).
import { readFlat, view } from "../backend/index.js";
import type { IndexSets, Params, Primitive } from "../core/primitive.js";
import { ShapedArray } from "../core/shaped-array.js";
import type { Atom, ClosedJaxpr, Var } from "../ir/jaxpr.js";

const EMPTY: Int32Array = new Int32Array(0);

/** The union of sorted index sets. */
export function unionSets(sets: readonly Int32Array[]): Int32Array {
  let nonEmpty: Int32Array | null = null;
  let count = 0;
  for (const s of sets) {
    if (s.length > 0 && s !== nonEmpty) {
      nonEmpty = s;
      count++;
    }
  }
  if (count === 0) return EMPTY;
  if (count === 1) return nonEmpty as Int32Array;
  let acc: Int32Array = EMPTY;
  for (const s of sets) acc = merge(acc, s);
  return acc;
}

/** The union of two sorted sets, by a merge; either one itself when it contains the other's elements. */
function merge(a: Int32Array, b: Int32Array): Int32Array {
  if (a === b || b.length === 0) return a;
  if (a.length === 0) return b;
  const out = new Int32Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) {
    const x = a[i];
    const y = b[j];
    out[k++] = x <= y ? x : y;
    if (x <= y) i++;
    if (y <= x) j++;
  }
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return k === a.length ? a : k === b.length ? b : out.slice(0, k);
}

/** Output element i depends on element i of each operand (or its only element, for a scalar operand). */
export function elementwiseSparsity(deps: IndexSets[], _ins: readonly ShapedArray[], outs: readonly ShapedArray[]): IndexSets[] {
  return outs.map((o) => {
    const r = new Array<Int32Array>(o.size);
    const parts = new Array<Int32Array>(deps.length);
    for (let i = 0; i < o.size; i++) {
      for (let k = 0; k < deps.length; k++) parts[k] = deps[k].length === 1 ? deps[k][0] : deps[k][i];
      r[i] = unionSets(parts);
    }
    return r;
  });
}

/** A reduction over `axes`: an output element depends on every input element it reduces. */
export function reductionSparsity(deps: IndexSets[], [x]: readonly ShapedArray[], [o]: readonly ShapedArray[], { axes }: Params): IndexSets[] {
  const reduced = axes as number[];
  const groups: Int32Array[][] = Array.from({ length: o.size }, () => []);
  const kept = x.shape.map((_, d) => !reduced.includes(d));
  for (let i = 0; i < x.size; i++) {
    let rest = i;
    let out = 0;
    let scale = 1;
    for (let d = x.ndim - 1; d >= 0; d--) {
      const c = rest % x.shape[d];
      rest = Math.floor(rest / x.shape[d]);
      if (kept[d]) {
        out += c * scale;
        scale *= x.shape[d];
      }
    }
    groups[out].push(deps[0][i]);
  }
  return [groups.map(unionSets)];
}

/**
 * Movement (transpose, reshape, slice, pad, concatenate, broadcast, squeeze): the primitive's own
 * impl, run on arrays holding each operand element's position, says where every output element
 * came from — one rule for every op that only moves or copies elements.
 */
export function movementSparsity(self: Primitive<any>) {
  return (deps: IndexSets[], ins: readonly ShapedArray[], outs: readonly ShapedArray[], params: Params): IndexSets[] => {
    const offsets: number[] = [];
    let at = 1;
    const args = ins.map((a) => {
      offsets.push(at);
      const data = new Float64Array(a.size);
      for (let i = 0; i < a.size; i++) data[i] = at + i;
      at += a.size;
      return view(data, a.shape);
    });
    const res = self.impl(args, params, outs.map((o) => new ShapedArray(o.shape, "float64")));
    return res.map((arr, j) => {
      const r = new Array<Int32Array>(outs[j].size);
      for (let i = 0; i < r.length; i++) {
        const v = readFlat(arr, i);
        let k = offsets.length - 1;
        while (k > 0 && v < offsets[k]) k--;
        r[i] = v === 0 ? EMPTY : deps[k][v - offsets[k]];
      }
      return r;
    });
  };
}

const strides = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
};

/** dot_general: an output element depends on its lhs row and rhs column over the contracted axes. */
export function dotSparsity(deps: IndexSets[], [l, r]: readonly ShapedArray[], [o]: readonly ShapedArray[], params: Params): IndexSets[] {
  const [[lc, rc], [lb, rb]] = [params.contract, params.batch] as [[number[], number[]], [number[], number[]]];
  const lFree = l.shape.map((_, d) => d).filter((d) => !lc.includes(d) && !lb.includes(d));
  const rFree = r.shape.map((_, d) => d).filter((d) => !rc.includes(d) && !rb.includes(d));
  const ls = strides(l.shape);
  const rs = strides(r.shape);
  // The output's axes are batch ++ lhs free ++ rhs free: each one's stride in lhs and rhs.
  const outL = [...lb.map((d) => ls[d]), ...lFree.map((d) => ls[d]), ...rFree.map(() => 0)];
  const outR = [...rb.map((d) => rs[d]), ...lFree.map(() => 0), ...rFree.map((d) => rs[d])];
  const cShape = lc.map((d) => l.shape[d]);
  const cSize = cShape.reduce((a, b) => a * b, 1);
  const lUsed = deps[0].some((s) => s.length > 0);
  const rUsed = deps[1].some((s) => s.length > 0);
  const res = new Array<Int32Array>(o.size);
  const parts: Int32Array[] = [];
  for (let i = 0; i < o.size; i++) {
    let rest = i;
    let lo = 0;
    let ro = 0;
    for (let d = o.ndim - 1; d >= 0; d--) {
      const c = rest % o.shape[d];
      rest = Math.floor(rest / o.shape[d]);
      lo += c * outL[d];
      ro += c * outR[d];
    }
    parts.length = 0;
    for (let k = 0; k < cSize; k++) {
      let kr = k;
      let lk = lo;
      let rk = ro;
      for (let d = cShape.length - 1; d >= 0; d--) {
        const c = kr % cShape[d];
        kr = Math.floor(kr / cShape[d]);
        lk += c * ls[lc[d]];
        rk += c * rs[rc[d]];
      }
      if (lUsed) parts.push(deps[0][lk]);
      if (rUsed) parts.push(deps[1][rk]);
    }
    res[i] = unionSets(parts);
  }
  return [res];
}

/** Every output element depends on everything any input depends on: the rule of a primitive without one. */
function denseSparsity(deps: IndexSets[], outs: readonly ShapedArray[]): IndexSets[] {
  const all = unionSets(deps.map((d) => unionSets(d)));
  return outs.map((o) => new Array<Int32Array>(o.size).fill(all));
}

/**
 * The index sets of a closed jaxpr's outputs (one per flat element of each output), its inputs
 * numbered in order across all of them (input j's element i is `offset_j + i`). Iterative: one
 * pass over the equations.
 */
export function propagateSparsity(closed: ClosedJaxpr): IndexSets[] {
  const { jaxpr } = closed;
  const env = new Map<Var, IndexSets>();
  for (const v of jaxpr.constBinders) env.set(v, new Array<Int32Array>(v.aval.size).fill(EMPTY));
  let at = 0;
  for (const v of jaxpr.inBinders) {
    const sets = new Array<Int32Array>(v.aval.size);
    for (let i = 0; i < sets.length; i++) sets[i] = Int32Array.of(at + i);
    at += v.aval.size;
    env.set(v, sets);
  }
  // A literal is a constant: it depends on nothing. (Told apart structurally: this module is imported
  // by primitive declarations, so it takes no values from the ir.)
  const read = (a: Atom): IndexSets => env.get(a as Var) ?? [EMPTY];
  for (const e of jaxpr.eqns) {
    const deps = e.inputs.map(read);
    const ins = e.inputs.map((a) => a.aval);
    const outs = e.outBinders.map((v) => v.aval);
    const p = e.primitive;
    const res = !p.differentiable
      ? outs.map((o) => new Array<Int32Array>(o.size).fill(EMPTY))
      : p.sparsity
        ? p.sparsity(deps, ins, outs, e.params)
        : denseSparsity(deps, outs);
    e.outBinders.forEach((v, j) => env.set(v, res[j]));
  }
  return jaxpr.outs.map(read).map((sets, j) => (sets.length === jaxpr.outs[j].aval.size ? sets : new Array<Int32Array>(jaxpr.outs[j].aval.size).fill(sets[0])));
}
