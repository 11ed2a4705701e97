import * as E from "fp-ts/lib/Either.js";
import { view } from "../backend/index.js";
import { asTensor, fromArr } from "../core/convert.js";
import { type DType, allocate, isFloat } from "../core/dtype.js";
import { JacobiError, fmtShape } from "../core/errors.js";
import { seeded } from "../core/random.js";
import type { Tensor } from "../core/tensor.js";
import { type TreeDef, flatten, unflatten } from "../core/tree.js";
import { jvp, vjp } from "./autodiff.js";
import { type Fn, checkFn, outputLeaves } from "./common.js";
import { type Validator, checkOptions, describe, invalid, nonNegativeNumber, positiveInteger, positiveNumber } from "../core/validate.js";

/** A derivative that disagrees with finite differences (or a primal that disagrees with `f`). */
export class GradCheckError extends JacobiError {}

export type CheckGradsMode = "fwd" | "rev";
export interface CheckGradsOptions {
  /** How many times to differentiate: 2 also checks the derivative functions themselves. */
  order?: number;
  modes?: CheckGradsMode[];
  /** Relative step of the central differences: each input element moves by about eps * max(1, |element|). */
  eps?: number;
  atol?: number;
  rtol?: number;
}

/** A mode or a non-empty list of them ("fwd", "rev"); every unknown entry is reported. */
const modesOption: Validator<CheckGradsMode[]> = (v, key) => {
  const list: unknown[] = Array.isArray(v) ? v : [v];
  if (list.length === 0) return invalid(`${key} must not be empty (use ["fwd"], ["rev"] or both)`);
  const bad = list.filter((m) => m !== "fwd" && m !== "rev");
  return bad.length === 0 ? E.right(list as CheckGradsMode[]) : invalid(`${key} must contain "fwd" and/or "rev", got ${bad.map((m) => describe(m)).join(", ")}`);
};
const CHECK_GRADS_OPTIONS = { order: positiveInteger, modes: modesOption, eps: positiveNumber, atol: nonNegativeNumber, rtol: nonNegativeNumber };

// JAX's default_gradient_tolerance.
const DEFAULT_TOL: Record<string, number> = { float64: 1e-5, float32: 2e-3 };
// About the cube root of each dtype's epsilon, the step that balances truncation against rounding
// in a central difference; float32 anywhere in the computation limits what the differences can show.
const EPS_F64 = 1e-6;
const EPS_F32 = 1e-3;

interface Settings {
  modes: Set<CheckGradsMode>;
  eps?: number;
  atol?: number;
  rtol?: number;
}

function normals(rand: () => number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - rand(), v = rand();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

const f64Of = (t: Tensor): Float64Array => {
  const a = t.toTypedArray();
  return a instanceof Float64Array ? a : Float64Array.from(a);
};

function makeTensor(data: Float64Array, shape: readonly number[], dtype: DType, weak = false): Tensor {
  const buf = allocate(dtype, data.length);
  buf.set(data);
  return fromArr(view(buf, shape), dtype, weak);
}

/** Random normal values shaped like each leaf (zeros for integer and bool leaves, which have no tangent space). */
function randomLike(xs: Tensor[], rand: () => number): Float64Array[] {
  return xs.map((x) => (isFloat(x.dtype) ? normals(rand, x.size) : new Float64Array(x.size)));
}
const tensorsLike = (data: Float64Array[], like: Tensor[]): Tensor[] => data.map((d, i) => makeTensor(d, like[i].shape, like[i].dtype));

function flatArgs(args: unknown[]): [Tensor[], TreeDef] {
  const [leaves, def] = flatten(args);
  return [leaves.map((l, i) => asTensor(l, `checkGrads: argument leaf ${i}`)), def];
}

function callFlat(f: Fn, def: TreeDef, xs: Tensor[]): [Tensor[], TreeDef] {
  return outputLeaves(f(...(unflatten(def, xs) as unknown[])), "checkGrads");
}

/**
 * Random directions whose entries are scaled by max(1, |x|) of their own element: the central
 * differences then move each element by a step relative to itself, so a large input elsewhere
 * (1e6 next to 0.5) does not make the step too coarse for the small one.
 */
function scaledDirections(xs: Tensor[], rand: () => number): Float64Array[] {
  return randomLike(xs, rand).map((d, i) => {
    if (!isFloat(xs[i].dtype)) return d;
    const v = f64Of(xs[i]);
    for (let k = 0; k < d.length; k++) d[k] *= Math.max(1, Math.abs(v[k]));
    return d;
  });
}

function describeValues(a: ArrayLike<number>): string {
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(12).replace(/\.?0+(e|$)/, "$1"));
  const n = a.length;
  const shown = n <= 24 ? Array.from(a, fmt) : [...Array.from(a).slice(0, 12).map(fmt), "...", ...Array.from(a).slice(n - 4).map(fmt)];
  return `[${shown.join(", ")}]`;
}

class Checker {
  private seed = 0;
  constructor(private readonly settings: Settings) {}

  private rand(): () => number {
    return seeded(0x5eed + 7919 * this.seed++);
  }

  /** Set while checking derivative functions of a computation that involved float32. */
  private low = false;

  private tolerances(dtypes: DType[]): [number, number] {
    const tol = this.low || dtypes.includes("float32") ? DEFAULT_TOL.float32 : DEFAULT_TOL.float64;
    return [this.settings.atol ?? tol, this.settings.rtol ?? tol];
  }

  private step(xs: Tensor[], outs: Tensor[]): number {
    const low = this.low || [...xs, ...outs].some((x) => x.dtype === "float32");
    return this.settings.eps ?? (low ? EPS_F32 : EPS_F64);
  }

  /**
   * Central differences of `f` along `dirs`, evaluated in float64 (float32 inputs are widened, so the
   * reference is as accurate as the function allows). Null for outputs without a tangent space.
   */
  private numericalJvp(f: Fn, def: TreeDef, xs: Tensor[], dirs: Float64Array[], h: number): (Float64Array | null)[] {
    const shifted = (sign: number) =>
      xs.map((x, i) => {
        if (!isFloat(x.dtype)) return x;
        const v = f64Of(x), d = dirs[i];
        for (let k = 0; k < v.length; k++) v[k] += sign * h * d[k];
        return makeTensor(v, x.shape, "float64", x.weakType);
      });
    const [plus] = callFlat(f, def, shifted(1));
    const [minus] = callFlat(f, def, shifted(-1));
    return plus.map((p, i) => {
      if (!isFloat(p.dtype)) return null;
      const a = f64Of(p), b = f64Of(minus[i]);
      for (let k = 0; k < a.length; k++) a[k] = (a[k] - b[k]) / (2 * h);
      return a;
    });
  }

  private fail(label: string, what: string, details: string): never {
    throw new GradCheckError(`checkGrads: ${label}: ${what}${details ? `\n${details}` : ""}`);
  }

  private compare(label: string, what: string, [gotName, expName]: [string, string], got: Tensor | Float64Array, expected: Float64Array, shape: readonly number[], dtypes: DType[]): void {
    const g = got instanceof Float64Array ? got : f64Of(got);
    const [atol, rtol] = this.tolerances(dtypes);
    let worst = -1, worstExcess = 0;
    for (let k = 0; k < g.length; k++) {
      const e = expected[k], v = g[k];
      if (Number.isNaN(e) && Number.isNaN(v)) continue;
      const excess = Math.abs(v - e) - (atol + rtol * Math.abs(e));
      if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
        worst = k;
        worstExcess = Number.isNaN(excess) ? Infinity : excess;
      }
    }
    if (worst < 0) return;
    const e = expected[worst], v = g[worst];
    this.fail(
      label,
      `${what} (shape ${fmtShape(shape)}, ${dtypes.join("/")}) does not match ${expName}`,
      `  expected (${expName}): ${describeValues(expected)}\n  got (${gotName}): ${describeValues(g)}\n` +
        `  worst at flat index ${worst}: expected ${e}, got ${v}, |difference| ${Math.abs(v - e)} > atol ${atol} + rtol ${rtol} * |expected|`,
    );
  }

  private checkStructure(label: string, what: string, got: TreeDef, want: TreeDef): void {
    if (!got.equals(want)) this.fail(label, `${what} has structure ${got}, but f returns ${want}`, "");
  }

  private checkPrimal(label: string, f: Fn, def: TreeDef, xs: Tensor[], ys: Tensor[], yDef: TreeDef, via: string): void {
    const [want, wantDef] = callFlat(f, def, xs);
    this.checkStructure(label, `the primal output of ${via}`, yDef, wantDef);
    ys.forEach((y, i) => {
      if (y.dtype !== want[i].dtype) this.fail(label, `primal output leaf ${i} of ${via} has dtype ${y.dtype}, but f returns ${want[i].dtype}`, "");
      this.compare(label, `primal output leaf ${i} of ${via}`, [via, "f"], y, f64Of(want[i]), y.shape, [y.dtype]);
    });
  }

  checkJvp(f: Fn, args: unknown[], label: string): void {
    const [xs, def] = flatArgs(args);
    const dirs = scaledDirections(xs, this.rand());
    const [yOut, tOut] = jvp(f, unflatten(def, xs), unflatten(def, tensorsLike(dirs, xs)));
    const [ys, yDef] = flatten(yOut) as [Tensor[], TreeDef];
    const ts = flatten(tOut)[0] as Tensor[];
    this.checkPrimal(label, f, def, xs, ys, yDef, "jvp");
    const expected = this.numericalJvp(f, def, xs, dirs, this.step(xs, ys));
    ys.forEach((y, i) => {
      const e = expected[i];
      if (e === null) return;
      if (ts[i].dtype !== y.dtype) this.fail(label, `tangent output leaf ${i} has dtype ${ts[i].dtype}, but its primal has dtype ${y.dtype}`, "");
      this.compare(label, `tangent output leaf ${i}`, ["forward mode", "central differences"], ts[i], e, y.shape, [y.dtype]);
    });
  }

  checkVjp(f: Fn, args: unknown[], label: string): void {
    const [xs, def] = flatArgs(args);
    const [yOut, back] = vjp(f, unflatten(def, xs));
    const [ys, yDef] = flatten(yOut) as [Tensor[], TreeDef];
    this.checkPrimal(label, f, def, xs, ys, yDef, "vjp");
    const dirs = scaledDirections(xs, this.rand());
    const numeric = this.numericalJvp(f, def, xs, dirs, this.step(xs, ys));
    const cts = randomLike(ys, this.rand());
    const ctIn = flatten(back(unflatten(yDef, tensorsLike(cts, ys))))[0] as Tensor[];
    if (ctIn.length !== xs.length) this.fail(label, `the vjp function returned ${ctIn.length} cotangent leaves for ${xs.length} inputs`, "");
    // <dirs, J^T ct> must equal <J dirs, ct>, with J dirs from finite differences.
    let got = 0, want = 0;
    const dtypes = new Set<DType>();
    xs.forEach((x, i) => {
      if (!isFloat(x.dtype)) return;
      if (ctIn[i].dtype !== x.dtype) this.fail(label, `cotangent of input leaf ${i} has dtype ${ctIn[i].dtype}, but the input has dtype ${x.dtype}`, "");
      dtypes.add(x.dtype);
      const c = f64Of(ctIn[i]), d = dirs[i];
      for (let k = 0; k < c.length; k++) got += c[k] * d[k];
    });
    ys.forEach((y, i) => {
      const e = numeric[i];
      if (e === null) return;
      dtypes.add(y.dtype);
      const c = cts[i];
      for (let k = 0; k < c.length; k++) want += e[k] * c[k];
    });
    this.compare(label, "<direction, vjp(cotangent)>", ["reverse mode", "<jvp(direction) by central differences, cotangent>"], new Float64Array([got]), new Float64Array([want]), [], [...dtypes]);
  }

  run(f: Fn, args: unknown[], order: number, path: string[]): void {
    const label = (m: string) => `${[m, ...path].join(" of ")} (derivative order ${path.length + 1})`;
    // The derivative functions of a float32 computation may return float64 but are only float32-accurate.
    const nested = (check: () => void) => {
      const outer = this.low;
      const [xs, def] = flatArgs(args);
      this.low ||= [...xs, ...callFlat(f, def, xs)[0]].some((x) => x.dtype === "float32");
      try {
        check();
      } finally {
        this.low = outer;
      }
    };
    if (this.settings.modes.has("fwd")) {
      this.checkJvp(f, args, label("JVP"));
      if (order > 1) {
        const [xs, def] = flatArgs(args);
        const ts = tensorsLike(randomLike(xs, this.rand()), xs);
        const fJvp = (ps: unknown[], tangents: unknown[]) => jvp(f, ps, tangents);
        nested(() => this.run(fJvp, [unflatten(def, xs), unflatten(def, ts)], order - 1, ["JVP", ...path]));
      }
    }
    if (this.settings.modes.has("rev")) {
      this.checkVjp(f, args, label("VJP"));
      if (order > 1) {
        const [xs, def] = flatArgs(args);
        const [ys] = callFlat(f, def, xs);
        // A fixed cotangent: the result is the gradient of <f, ct>, so its derivatives are second derivatives of f.
        const cts = randomLike(ys, this.rand());
        const fVjp = (...ps: unknown[]) => {
          const [out, back] = vjp(f, ps);
          const [outLeaves, outDef] = flatten(out) as [Tensor[], TreeDef];
          return back(unflatten(outDef, cts.map((c, i) => makeTensor(c, outLeaves[i].shape, outLeaves[i].dtype))));
        };
        nested(() => this.run(fVjp, args, order - 1, ["VJP", ...path]));
      }
    }
  }
}

/**
 * Checks the derivatives of `f` at `args` (its positional arguments, pytrees) against central finite
 * differences, as `jax.test_util.check_grads`: forward mode through `jvp`, reverse mode through the
 * identity <v, vjp(u)> = <jvp(v), u>, in random seeded directions; with `order` 2 the derivative
 * functions themselves are checked the same way. Throws a `JacobiError` naming the check, the
 * expected and the computed values on the first mismatch; returns nothing when all agree.
 */
export function checkGrads(f: Fn, args: unknown[], opts: CheckGradsOptions = {}): void {
  checkFn(f, "checkGrads");
  if (!Array.isArray(args)) throw new JacobiError("checkGrads: args must be an array with one entry per positional argument of f");
  const { order = 2, modes = ["fwd", "rev"], eps, atol, rtol } = checkOptions("checkGrads", opts, CHECK_GRADS_OPTIONS);
  new Checker({ modes: new Set(modes), eps, atol, rtol }).run(f, args, order, []);
}
