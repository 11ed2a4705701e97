// optim's optimizers against optax's published update rules, written out here a second time in
// plain JS on flat number arrays (one array per leaf), step by step.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { JacobiError, OptionsError, type Tensor, TreeError, grad, jit, np, optim, tree, vmap } from "../../src/index.js";
import type { GradientTransformation, OptState } from "../../src/optim/index.js";
import { guardTraceState } from "../guard.js";
import { close, flat, throwsWith } from "../helpers.js";

guardTraceState(test);

type Params = { a: Tensor; b: { c: Tensor }; d: Tensor[] };
type Leaves = number[][];

const P0 = (): Params => ({ a: np.array([0.5, -1.5, 2]), b: { c: np.array([[1, 2], [3, -4]]) }, d: [np.array(0.25)] });
const sizes = [3, 4, 1];
/** The gradient at step k, leaf i, element j: a fixed pseudo-random sequence with a zero in it. */
const gval = (k: number, i: number, j: number): number => (i === 1 && j === 2 ? 0 : Math.sin(1 + 7 * k + 3 * i + j) * (i + 1));
const gradsAt = (k: number): Params => {
  const l = sizes.map((n, i) => Array.from({ length: n }, (_, j) => gval(k, i, j)));
  return { a: np.array(l[0]), b: { c: np.array([l[1].slice(0, 2), l[1].slice(2)]) }, d: [np.array(l[2][0])] };
};
const gradLeaves = (k: number): Leaves => sizes.map((n, i) => Array.from({ length: n }, (_, j) => gval(k, i, j)));
const leavesOf = (p: unknown): Leaves => tree.leaves(p).map((t) => flat(t as Tensor));

/** Runs `opt` for `steps` steps from P0 with gradsAt(k); returns every step's updates and the final params. */
function runOpt(opt: GradientTransformation, steps: number): { updates: Leaves[]; params: Leaves } {
  let params = P0();
  let state = opt.init(params);
  const updates: Leaves[] = [];
  for (let k = 0; k < steps; k++) {
    const [u, s] = opt.update(gradsAt(k), state, params);
    updates.push(leavesOf(u));
    params = optim.applyUpdates(params, u);
    state = s;
  }
  return { updates, params: leavesOf(params) };
}

/** A plain-JS optimizer: given the gradient and params of one step, the updates. */
type Ref = (g: Leaves, p: Leaves) => Leaves;
function runRef(makeRef: () => Ref, steps: number): { updates: Leaves[]; params: Leaves } {
  const ref = makeRef();
  let p = leavesOf(P0());
  const updates: Leaves[] = [];
  for (let k = 0; k < steps; k++) {
    const u = ref(gradLeaves(k), p);
    updates.push(u);
    p = p.map((l, i) => l.map((v, j) => v + u[i][j]));
  }
  return { updates, params: p };
}

const zerosLike = (l: Leaves): Leaves => l.map((a) => a.map(() => 0));
const mapL = (f: (...v: number[]) => number, ...ls: Leaves[]): Leaves => ls[0].map((a, i) => a.map((_, j) => f(...ls.map((l) => l[i][j]))));

function refAdam(lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0): Ref {
  let m: Leaves | null = null, v: Leaves | null = null, count = 0;
  return (g) => {
    m = mapL((gi, mi) => (1 - b1) * gi + b1 * mi, g, m ?? zerosLike(g));
    v = mapL((gi, vi) => (1 - b2) * (gi * gi) + b2 * vi, g, v ?? zerosLike(g));
    count++;
    const c1 = 1 - b1 ** count, c2 = 1 - b2 ** count;
    return mapL((mi, vi) => -lr * ((mi / c1) / (Math.sqrt(vi / c2 + epsRoot) + eps)), m, v);
  };
}

function same(got: { updates: Leaves[]; params: Leaves }, want: { updates: Leaves[]; params: Leaves }, tol: number, what: string): void {
  got.updates.forEach((u, k) => close(u, want.updates[k], tol, `${what} step ${k}`));
  close(got.params, want.params, tol, `${what} params`);
}

test("adam: optax's defaults (b1 0.9, b2 0.999, eps 1e-8, epsRoot 0) and bias correction, five steps", () => {
  same(runOpt(optim.adam(0.01), 5), runRef(() => refAdam(0.01), 5), 1e-15, "adam");
  same(runOpt(optim.adam(0.05, { b1: 0.8, b2: 0.99, eps: 1e-3, epsRoot: 1e-4 }), 4), runRef(() => refAdam(0.05, 0.8, 0.99, 1e-3, 1e-4), 4), 1e-15, "adam opts");
  // The first step is -lr * g / (|g| + eps): about -lr * sign(g), exactly 0 where g is 0.
  const first = runOpt(optim.adam(0.1), 1).updates[0];
  close(first[1][2], 0, 0);
  close(first[0][0], -0.1 * Math.sign(gval(0, 0, 0)) * (Math.abs(gval(0, 0, 0)) / (Math.abs(gval(0, 0, 0)) + 1e-8)), 1e-16);
});

test("adam nesterov (nadam): mu_hat = b1 * bc(mu, t + 1) + (1 - b1) * bc(g, t)", () => {
  const ref = (): Ref => {
    const b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 0.02;
    let m: Leaves | null = null, v: Leaves | null = null, t = 0;
    return (g) => {
      m = mapL((gi, mi) => (1 - b1) * gi + b1 * mi, g, m ?? zerosLike(g));
      v = mapL((gi, vi) => (1 - b2) * (gi * gi) + b2 * vi, g, v ?? zerosLike(g));
      t++;
      return mapL((mi, vi, gi) => -lr * ((b1 * (mi / (1 - b1 ** (t + 1))) + (1 - b1) * (gi / (1 - b1 ** t))) / (Math.sqrt(vi / (1 - b2 ** t)) + eps)), m, v, g);
    };
  };
  same(runOpt(optim.adam(0.02, { nesterov: true }), 4), runRef(ref, 4), 1e-15, "nadam");
});

test("adamw: weight decay 1e-4 by default, added after Adam's scaling and before the learning rate", () => {
  const ref = (wd: number, lr: number, mask?: boolean[]): Ref => {
    const adamRef = refAdam(1);
    return (g, p) => {
      const a = adamRef(g, p).map((l) => l.map((x) => -x)); // Adam's direction without the -lr
      return a.map((l, i) => l.map((x, j) => -lr * (mask && !mask[i] ? x : x + wd * p[i][j])));
    };
  };
  same(runOpt(optim.adamw(0.01), 4), runRef(() => ref(1e-4, 0.01), 4), 1e-15, "adamw");
  same(runOpt(optim.adamw(0.01, { weightDecay: 0.5 }), 4), runRef(() => ref(0.5, 0.01), 4), 1e-15, "adamw wd");
  // A mask (leaves in sorted-key order a, b.c, d[0]) decays only where it is true.
  const mask = { a: true, b: { c: false }, d: [true] };
  same(runOpt(optim.adamw(0.01, { weightDecay: 0.5, mask }), 3), runRef(() => ref(0.5, 0.01, [true, false, true]), 3), 1e-15, "adamw mask");
  // The mask may be a function of the params.
  const fnMask = (p: Params) => tree.map((x: Tensor) => x.ndim > 1, p);
  same(runOpt(optim.adamw(0.01, { weightDecay: 0.5, mask: fnMask }), 3), runRef(() => ref(0.5, 0.01, [false, true, false]), 3), 1e-15, "adamw mask fn");
});

test("sgd: plain, with momentum (optax's trace) and with Nesterov momentum", () => {
  same(runOpt(optim.sgd(0.1), 3), runRef(() => (g) => g.map((l) => l.map((x) => -0.1 * x)), 3), 0, "sgd");
  const mom = (decay: number, nesterov: boolean): Ref => {
    let t: Leaves | null = null;
    return (g) => {
      t = mapL((gi, ti) => gi + decay * ti, g, t ?? zerosLike(g));
      const u = nesterov ? mapL((gi, ti) => gi + decay * ti, g, t) : t;
      return u.map((l) => l.map((x) => -0.1 * x));
    };
  };
  same(runOpt(optim.sgd(0.1, { momentum: 0.9 }), 4), runRef(() => mom(0.9, false), 4), 0, "momentum");
  same(runOpt(optim.sgd(0.1, { momentum: 0.9, nesterov: true }), 4), runRef(() => mom(0.9, true), 4), 0, "nesterov");
  // Hand-computed: one leaf, g = 1 then 2; trace 1, then 2 + 0.5 * 1 = 2.5; updates -0.1 and -0.25.
  const opt = optim.sgd(0.1, { momentum: 0.5 });
  let s = opt.init({ w: np.array([0]) });
  let u: { w: Tensor };
  [u, s] = opt.update({ w: np.array([1]) }, s);
  close(u.w, [-0.1], 1e-17);
  [u, s] = opt.update({ w: np.array([2]) }, s);
  close(u.w, [-0.25], 1e-17);
});

test("rmsprop: optax's (decay 0.9, eps 1e-8 inside the square root, nu starting at 0); centred; momentum", () => {
  const ref = (o: { decay?: number; eps?: number; initialScale?: number; epsInSqrt?: boolean; centered?: boolean; momentum?: number; biasCorrection?: boolean }): Ref => {
    const decay = o.decay ?? 0.9, eps = o.eps ?? 1e-8, lr = 0.01;
    let nu: Leaves | null = null, mu: Leaves | null = null, tr: Leaves | null = null, count = 0;
    return (g) => {
      nu = mapL((gi, ni) => (1 - decay) * (gi * gi) + decay * ni, g, nu ?? g.map((l) => l.map(() => o.initialScale ?? 0)));
      mu = mapL((gi, mi) => (1 - decay) * gi + decay * mi, g, mu ?? zerosLike(g));
      count++;
      const bc = o.biasCorrection ? 1 - decay ** count : 1;
      const nh = o.biasCorrection ? nu.map((l) => l.map((x) => x / bc)) : nu;
      const mh = o.biasCorrection ? mu.map((l) => l.map((x) => x / bc)) : mu;
      const variance = o.centered ? mapL((n, m) => n - m * m, nh, mh) : nh;
      const s = variance.map((l) => l.map((n) => ((o.epsInSqrt ?? true) ? 1 / Math.sqrt(n + eps) : 1 / (Math.sqrt(n) + eps))));
      let u = mapL((si, gi) => -lr * (si * gi), s, g);
      if (o.momentum !== undefined) {
        tr = mapL((ui, ti) => ui + o.momentum! * ti, u, tr ?? zerosLike(g));
        u = tr;
      }
      return u;
    };
  };
  same(runOpt(optim.rmsprop(0.01), 4), runRef(() => ref({}), 4), 1e-15, "rmsprop");
  same(runOpt(optim.rmsprop(0.01, { decay: 0.8, eps: 1e-4, initialScale: 0.1, epsInSqrt: false }), 4), runRef(() => ref({ decay: 0.8, eps: 1e-4, initialScale: 0.1, epsInSqrt: false }), 4), 1e-15, "rmsprop opts");
  same(runOpt(optim.rmsprop(0.01, { centered: true, eps: 1e-2 }), 4), runRef(() => ref({ centered: true, eps: 1e-2 }), 4), 1e-14, "centred");
  same(runOpt(optim.rmsprop(0.01, { momentum: 0.9 }), 4), runRef(() => ref({ momentum: 0.9 }), 4), 1e-15, "momentum");
  same(runOpt(optim.rmsprop(0.01, { biasCorrection: true }), 4), runRef(() => ref({ biasCorrection: true }), 4), 1e-15, "bias correction");
  same(runOpt(optim.rmsprop(0.01, { biasCorrection: true, centered: true, eps: 1e-2 }), 3), runRef(() => ref({ biasCorrection: true, centered: true, eps: 1e-2 }), 3), 1e-14, "centred, corrected");
  // Hand-computed first step: nu = 0.1 g^2, update = -lr g / sqrt(0.1 g^2 + 1e-8).
  const opt = optim.rmsprop(0.01);
  const [u] = opt.update({ w: np.array([2]) }, opt.init({ w: np.array([0]) }));
  close(u.w, [-0.01 * 2 / Math.sqrt(0.4 + 1e-8)], 1e-16);
});

test("adagrad: optax's initial accumulator 0.1 and eps 1e-7; a zero accumulator gives a zero update", () => {
  const ref = (init: number, eps: number): Ref => {
    let s: Leaves | null = null;
    return (g) => {
      s = mapL((gi, si) => gi * gi + si, g, s ?? g.map((l) => l.map(() => init)));
      return mapL((si, gi) => -0.1 * ((si > 0 ? 1 / Math.sqrt(si + eps) : 0) * gi), s, g);
    };
  };
  same(runOpt(optim.adagrad(0.1), 4), runRef(() => ref(0.1, 1e-7), 4), 1e-15, "adagrad");
  same(runOpt(optim.adagrad(0.1, { initialAccumulatorValue: 0, eps: 1e-3 }), 3), runRef(() => ref(0, 1e-3), 3), 1e-15, "adagrad opts");
  const opt = optim.adagrad(1, { initialAccumulatorValue: 0 });
  const [u] = opt.update({ w: np.array([0, 3]) }, opt.init({ w: np.array([1, 1]) }));
  close(u.w, [0, -3 / Math.sqrt(9 + 1e-7)], 1e-16);
});

test("lamb: Adam (eps 1e-6), decayed weights, then each leaf scaled by ||param|| / ||update||", () => {
  const ref = (wd: number): Ref => {
    const adamRef = refAdam(-1, 0.9, 0.999, 1e-6); // lr -1 keeps Adam's direction with its sign
    return (g, p) => {
      const a = adamRef(g, p).map((l, i) => l.map((x, j) => x + wd * p[i][j]));
      return a.map((l, i) => {
        const pn = Math.hypot(...p[i]), un = Math.hypot(...l);
        const r = pn === 0 || un === 0 ? 1 : pn / un;
        return l.map((x) => -0.01 * (x * r));
      });
    };
  };
  same(runOpt(optim.lamb(0.01), 4), runRef(() => ref(0), 4), 1e-14, "lamb");
  same(runOpt(optim.lamb(0.01, { weightDecay: 0.1 }), 4), runRef(() => ref(0.1), 4), 1e-14, "lamb wd");
  // A zero param leaf keeps a ratio of 1.
  const opt = optim.lamb(1);
  const [u] = opt.update({ w: np.array([3, 4]) }, opt.init({ w: np.array([0, 0]) }), { w: np.array([0, 0]) });
  close(u.w, [-3 / (3 + 1e-6), -4 / (4 + 1e-6)], 1e-15);
});

test("scaleByTrustRatio: minNorm clips both norms, trustCoefficient and eps enter the ratio", () => {
  const t = optim.scaleByTrustRatio({ minNorm: 10, trustCoefficient: 0.5, eps: 1 });
  const [u] = t.update({ w: np.array([3, 4]) }, t.init({}), { w: np.array([6, 8]) });
  // ||p|| = 10 <= minNorm -> 10; ||u|| = 5 -> 10; ratio 0.5 * 10 / (10 + 1).
  close(u.w, [3 * (5 / 11), 4 * (5 / 11)], 1e-15);
  const [v] = t.update({ w: np.array([30, 40]) }, null, { w: np.array([60, 80]) });
  close(v.w, [30 * ((0.5 * 100) / (50 + 1)), 40 * ((0.5 * 100) / (50 + 1))], 1e-14);
});

test("clipByGlobalNorm and globalNorm: the norm over every leaf; clipped only at or above maxNorm", () => {
  close(optim.globalNorm({ a: np.array([3, 4]), b: [np.array([[12]])] }), 13, 1e-16);
  close(optim.globalNorm([]), 0, 0);
  close(optim.globalNorm({ x: 2 }), 2, 0);
  const clip = optim.clipByGlobalNorm(6.5);
  const g = { a: np.array([3, 4]), b: [np.array([[12]])] };
  const [u, s] = clip.update(g, clip.init(g));
  assert.is(s, null);
  close(u, { a: [(3 / 13) * 6.5, (4 / 13) * 6.5], b: [[[(12 / 13) * 6.5]]] }, 1e-16);
  close(optim.globalNorm(u), 6.5, 1e-15);
  const [same13] = optim.clipByGlobalNorm(13.5).update(g, null);
  close(same13, { a: [3, 4], b: [[[12]]] }, 0);
  // Exactly at the bound: scaled by maxNorm / norm = 1 (optax keeps only norms strictly below).
  const [at] = optim.clipByGlobalNorm(13).update(g, null);
  close(at, { a: [3, 4], b: [[[12]]] }, 1e-16);
});

test("chain: states in order, updates threaded through; clip then adam", () => {
  const opt = optim.chain(optim.clipByGlobalNorm(1), optim.scaleByAdam(), optim.scaleByLearningRate(0.1));
  const st = opt.init(P0()) as OptState[];
  assert.is(st.length, 3);
  const ref = (): Ref => {
    const adam = refAdam(0.1);
    return (g, p) => {
      const n = Math.sqrt(g.flat().reduce((s, x) => s + x * x, 0));
      const c = n < 1 ? g : g.map((l) => l.map((x) => (x / n) * 1));
      return adam(c, p);
    };
  };
  same(runOpt(opt, 4), runRef(ref, 4), 1e-15, "clip+adam");
  throwsWith(() => opt.update(gradsAt(0), [null], P0()), JacobiError, ["optim.chain", "3 transformations", "1 states"]);
  throwsWith(() => optim.chain(optim.sgd(1), {} as GradientTransformation), JacobiError, ["optim.chain", "argument 1"]);
  // An empty chain is the identity.
  const [u] = optim.chain().update({ w: np.array([1]) }, optim.chain().init({}));
  close(u.w, [1], 0);
});

test("schedules are accepted wherever a learning rate is, evaluated at the count before each step", () => {
  const sched = optim.exponentialDecay(0.1, 1, 0.5);
  const got = runOpt(optim.sgd(sched), 3);
  const ref = (): Ref => {
    let k = 0;
    return (g) => {
      const lr = 0.1 * 0.5 ** k++;
      return g.map((l) => l.map((x) => -lr * x));
    };
  };
  same(got, runRef(ref, 3), 1e-17, "sgd schedule");
  same(runOpt(optim.adam(sched), 3), runRef(() => {
    const a = refAdam(1);
    let k = 0;
    return (g, p) => a(g, p).map((l) => { const lr = 0.1 * 0.5 ** k; return l.map((x) => lr * x); }).map((l, i, all) => (i === all.length - 1 ? (k++, l) : l));
  }, 3), 1e-15, "adam schedule");
  // A weight-decay schedule counts its own steps.
  const wd = optim.addDecayedWeights({ weightDecay: optim.piecewiseConstant(1, { 1: 0.5 }) });
  let s = wd.init({ w: np.array([2]) });
  let u: { w: Tensor };
  [u, s] = wd.update({ w: np.array([1]) }, s, { w: np.array([2]) });
  close(u.w, [3], 0);
  [u, s] = wd.update({ w: np.array([1]) }, s, { w: np.array([2]) });
  close(u.w, [2], 0);
  assert.equal((s as { count: Tensor }).count.tolist(), 2);
});

test("the step count is an int32 scalar in the state, saturating at the largest int32", () => {
  const opt = optim.scaleByAdam();
  const s = opt.init({ w: np.array([1]) }) as { count: Tensor };
  assert.is(s.count.dtype, "int32");
  assert.equal(s.count.shape, []);
  const [, s1] = opt.update({ w: np.array([1]) }, s);
  assert.is((s1 as { count: Tensor }).count.item(), 1);
  const big = { ...s, count: np.array(2147483647, "int32") };
  const [, s2] = opt.update({ w: np.array([1]) }, big);
  assert.is((s2 as { count: Tensor }).count.item(), 2147483647);
});

/** Same leaves, dtypes and bits (jit against eager). */
function sameBits(lj: Tensor[], le: Tensor[], name: string): void {
  assert.is(lj.length, le.length, name);
  le.forEach((t, i) => {
    assert.is(lj[i].dtype, t.dtype, `${name} leaf ${i} dtype`);
    const a = flat(t), b = flat(lj[i]);
    a.forEach((v, j) => assert.ok(Object.is(v, b[j]), `${name} leaf ${i}[${j}]: eager ${v}, jit ${b[j]}`));
  });
}

test("under jit, an update step is bit-identical to eager, for every optimizer", () => {
  const opts: [string, GradientTransformation][] = [
    ["sgd", optim.sgd(0.1, { momentum: 0.9, nesterov: true })],
    ["adam", optim.adam(0.01)],
    ["adamw", optim.adamw(optim.cosineDecay(0.01, 10), { mask: { a: true, b: { c: false }, d: [true] } })],
    ["rmsprop", optim.rmsprop(0.01, { centered: true, momentum: 0.5, biasCorrection: true })],
    ["adagrad", optim.adagrad(0.1)],
    ["lamb", optim.lamb(optim.warmupCosineDecay(0, 0.01, 2, 10), { weightDecay: 0.01 })],
    ["clip", optim.chain(optim.clipByGlobalNorm(0.5), optim.sgd(optim.piecewiseConstant(0.1, { 2: 0.1 })))],
  ];
  for (const [name, opt] of opts) {
    const step = (p: Params, s: OptState, g: Params): [Params, OptState] => {
      const [u, s2] = opt.update(g, s, p);
      return [optim.applyUpdates(p, u), s2];
    };
    const jitted = jit(step);
    let pe = P0(), pj = P0();
    let se = opt.init(pe), sj = opt.init(pj);
    for (let k = 0; k < 3; k++) {
      [pe, se] = step(pe, se, gradsAt(k));
      [pj, sj] = jitted(pj, sj, gradsAt(k));
    }
    sameBits(tree.leaves([pj, sj]) as Tensor[], tree.leaves([pe, se]) as Tensor[], name);
  }
});

test("a jitted training step (grad, then the optimizer) converges, bit-identical to the eager loop", () => {
  const target = { w: np.array([1, -2, 3]), b: 0.5 };
  const loss = (p: { w: Tensor; b: Tensor }) => np.add(np.sum(np.square(np.subtract(p.w, target.w))), np.square(np.subtract(p.b, target.b)));
  const opt = optim.chain(optim.clipByGlobalNorm(10), optim.adam(optim.exponentialDecay(0.3, 50, 0.5)));
  const step = (p: { w: Tensor; b: Tensor }, s: OptState): [{ w: Tensor; b: Tensor }, OptState] => {
    const [u, s2] = opt.update(grad(loss)(p), s, p);
    return [optim.applyUpdates(p, u), s2];
  };
  const jitted = jit(step);
  let pe = { w: np.zeros([3]), b: np.array(0) }, pj = pe;
  let se = opt.init(pe), sj = se;
  for (let k = 0; k < 150; k++) {
    [pe, se] = step(pe, se);
    [pj, sj] = jitted(pj, sj);
  }
  sameBits(tree.leaves([pj, sj]) as Tensor[], tree.leaves([pe, se]) as Tensor[], "training");
  assert.ok(loss(pj).item() < 1e-6, `loss ${loss(pj).item()}`);
});

test("vmap: a batch of independent optimizer steps equals a loop over them", () => {
  const opt = optim.adam(0.1);
  const step = (p: Tensor, s: OptState, g: Tensor): [Tensor, OptState] => {
    const [u, s2] = opt.update(g, s, p);
    return [optim.applyUpdates(p, u), s2];
  };
  const ps = np.array([[1, 2], [3, 4], [5, 6]]), gs = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]);
  const [pb, sb] = vmap(step)(ps, vmap((p: Tensor) => opt.init(p))(ps), gs);
  for (let i = 0; i < 3; i++) {
    const [p1, s1] = step(ps.slice(i), opt.init(ps.slice(i)), gs.slice(i));
    close(pb.slice(i), p1, 0);
    close((sb as { mu: Tensor }[])[0].mu.slice(i), (s1 as { mu: Tensor }[])[0].mu, 0);
  }
});

test("nothing passed in is mutated; applyUpdates keeps each param's dtype", () => {
  const p = P0(), g = gradsAt(0);
  const before = JSON.stringify([tree.leaves(p).map((t) => flat(t as Tensor)), tree.leaves(g).map((t) => flat(t as Tensor))]);
  const opt = optim.adamw(0.1);
  const s = opt.init(p);
  const sBefore = JSON.stringify(tree.leaves(s).map((t) => flat(t as Tensor)));
  const [u] = opt.update(g, s, p);
  optim.applyUpdates(p, u);
  assert.is(JSON.stringify([tree.leaves(p).map((t) => flat(t as Tensor)), tree.leaves(g).map((t) => flat(t as Tensor))]), before);
  assert.is(JSON.stringify(tree.leaves(s).map((t) => flat(t as Tensor))), sBefore);
  const p32 = { w: np.array([1, 2], "float32") };
  const out = optim.applyUpdates(p32, { w: np.array([0.5, 0.25]) });
  assert.is(out.w.dtype, "float32");
  close(out.w, [1.5, 2.25], 0);
  // Plain numbers as leaves work too.
  close(optim.applyUpdates({ x: 1 }, { x: 0.5 }).x as unknown as Tensor, 1.5, 0);
  // A float32 param gets float32 moments and updates.
  const [u32] = optim.adam(0.1).update(p32, optim.adam(0.1).init(p32));
  assert.is(u32.w.dtype, "float32");
});

test("errors: unknown options, bad hyperparameters, missing params, mismatched trees, foreign states", () => {
  throwsWith(() => optim.sgd(0.1, { momentun: 0.9 } as never), OptionsError, ["optim.sgd", '"momentun"', "momentum, nesterov"]);
  // Every unknown key is named at once.
  throwsWith(() => optim.adam(0.1, { beta1: 0.9, beta2: 0.99 } as never), OptionsError, ['"beta1"', '"beta2"']);
  throwsWith(() => optim.adam(0.1, { beta1: 0.9 } as never), JacobiError, ["optim.adam", '"beta1"']);
  throwsWith(() => optim.adamw(0.1, { decay: 1 } as never), JacobiError, ["optim.adamw", '"decay"']);
  throwsWith(() => optim.rmsprop(0.1, { rho: 1 } as never), JacobiError, ["optim.rmsprop", '"rho"']);
  throwsWith(() => optim.adagrad(0.1, { lr: 1 } as never), JacobiError, ["optim.adagrad", '"lr"']);
  throwsWith(() => optim.lamb(0.1, { x: 1 } as never), JacobiError, ["optim.lamb", '"x"']);
  throwsWith(() => optim.scaleByLearningRate(0.1, { flip: true } as never), JacobiError, ['"flip"']);
  throwsWith(() => optim.scaleByTrustRatio({ min: 1 } as never), JacobiError, ['"min"']);
  throwsWith(() => optim.sgd(0.1, 3 as never), OptionsError, ["optim.sgd", "options must be a plain object"]);
  throwsWith(() => optim.adam("0.1" as never), JacobiError, ["optim.adam", "learningRate", "finite number"]);
  throwsWith(() => optim.sgd(NaN), JacobiError, ["learningRate", "NaN"]);
  throwsWith(() => optim.sgd(0.1, { nesterov: 1 } as never), JacobiError, ["nesterov", "true or false"]);
  throwsWith(() => optim.clipByGlobalNorm(undefined as never), JacobiError, ["maxNorm"]);
  throwsWith(() => optim.scaleBySchedule(1 as never), JacobiError, ["optim.scaleBySchedule", "schedule"]);
  throwsWith(() => optim.trace({} as never), JacobiError, ["optim.trace", "decay"]);
  const w = optim.adamw(0.1);
  throwsWith(() => w.update({ w: np.array([1]) }, w.init({ w: np.array([1]) })), JacobiError, ["optim.addDecayedWeights", "params"]);
  throwsWith(() => optim.scaleByTrustRatio().update({ w: np.array([1]) }, null), JacobiError, ["optim.scaleByTrustRatio", "params"]);
  throwsWith(() => optim.adam(0.1).update({ w: np.array([1]) }, null), JacobiError, ["optim.chain"]);
  throwsWith(() => optim.scaleByAdam().update({ w: np.array([1]) }, null), JacobiError, ["optim.scaleByAdam", '"mu"', "init"]);
  throwsWith(() => optim.scaleByAdam().update({ w: np.array([1]) }, { mu: { w: np.zeros([1]) }, nu: { w: np.zeros([1]) } }), JacobiError, ['"count"']);
  const a = optim.adam(0.1);
  throwsWith(() => a.update({ v: np.array([1]) }, a.init({ w: np.array([1]) })), TreeError, ["tree.map"]);
  const m = optim.adamw(0.1, { mask: { w: 1 } as never });
  throwsWith(() => m.update({ w: np.array([1]) }, m.init({ w: np.array([1]) }), { w: np.array([1]) }), JacobiError, ["mask", "true/false"]);
});

test("identity and scale: the simplest transformations", () => {
  const [u, s] = optim.identity().update({ w: np.array([1, 2]) }, optim.identity().init({}));
  close(u.w, [1, 2], 0);
  assert.is(s, null);
  const [v] = optim.scale(-2).update({ w: np.array([1, 2]) }, null);
  close(v.w, [-2, -4], 0);
  const [x] = optim.scaleByLearningRate(3, { flipSign: false }).update({ w: np.array([1]) }, null);
  close(x.w, [3], 0);
});

test.run();
