// The operations tests/backend/no-eval.test.ts runs with and without generated kernels, in this
// process and in a child process where Node forbids code generation from strings (as a CSP
// without 'unsafe-eval' does): `node --disallow-code-generation-from-strings --import tsx
// tests/backend/no-eval-cases.ts` prints every case's bits as JSON.
import { grad, jit, lax, nn, np, random, vmap, type Tensor } from "../../src/index.js";
import { codegen } from "../../src/backend/no-eval.js";

/** The bits of a number (so NaN equals NaN and -0 differs from 0). */
export const bits = (v: unknown): string => (typeof v === "number" ? (Object.is(v, -0) ? "-0" : String(v)) : `${typeof v}:${String(v)}`);

/** A pytree of Tensors as the bits of every element. */
export function snapshot(x: unknown): string {
  if (Array.isArray(x)) return `[${x.map(snapshot).join("; ")}]`;
  const t = x as Tensor;
  return `${t.dtype}${JSON.stringify(t.shape)}:${Array.from(t.toTypedArray() as ArrayLike<number>, bits).join(",")}`;
}

const key = random.key(7);
const u = random.uniform(key, [4, 5]).mul(6).sub(3);
const v = random.normal(random.foldIn(key, 1), [5]);
const withNaN = np.array([[1, NaN, -0, Infinity, -2.5], [3, 3, -Infinity, 0, 0.5]]);
const ints = np.astype(np.array([[1, -2, 3, 7, -8], [0, 5, -5, 2147483647, -2147483648]]), "int32");
const uints = random.bits(key, [2, 5]);
const f32 = np.astype(u, "float32");

export const CASES: [string, () => unknown][] = [
  ["elementwise float64", () => [np.sin(u), np.log(np.abs(u)), np.tanh(u).mul(u.T.T), np.power(np.abs(u), v), np.arctan2(u, v), np.round(u.mul(2))]],
  ["broadcast and transposed", () => [u.T.add(np.reshape(v, [5, 1])), np.maximum(u, 0), np.where(u.gt(0), u, v), np.clip(u.T, -1, 1)]],
  ["NaN, infinities, -0", () => [withNaN.mul(-0), np.maximum(withNaN, 1), np.minimum(withNaN, withNaN.T.T), np.sign(withNaN), np.sqrt(withNaN)]],
  ["float32", () => [np.exp(f32), f32.mul(f32).sum(1), np.astype(f32, "float64").div(3), np.divide(f32, 7)]],
  ["int32", () => [ints.add(ints), ints.mul(ints), np.bitwiseAnd(ints, 6), np.leftShift(ints, 3), np.rightShift(ints, 1), np.bitwiseNot(ints), ints.neg(), np.abs(ints), ints.div(2)]],
  ["uint32 and bits", () => [uints.mul(uints), random.split(key, 3), random.bits(random.foldIn(key, 9), [7]), random.uniform(key, [3]), random.normal(key, [2, 2])]],
  ["bool", () => [u.gt(0), np.equal(ints, 3), np.astype(u, "bool")]],
  ["reductions", () => [u.sum(), u.sum(0), u.T.sum(1), u.max(1), u.min(0), np.prod(u, 1), np.argmax(u, 1), np.argmin(u.T, 0), np.argmax(withNaN, 1), withNaN.max(1), np.mean(ints), np.prod(ints, 1), np.prod(np.astype(ints, "uint32"), 0), np.astype(np.array([3e9, -3e9, NaN, 5e9]), "int32"), np.astype(np.array([5e9, -1]), "uint32")]],
  ["scalars", () => [np.add(np.log(2), np.multiply(2, 5)).sub(np.sin(5)), np.array(3).pow(2), np.array(-0).mul(1)]],
  ["shapes and copies", () => [np.transpose(u).reshape([2, 10]), np.concatenate([u, u.mul(2)], 1), u.slice(null, [4, 0, -2]), np.stack([v, v.neg()]), np.take(u, np.astype(np.array([2, 0]), "int32"), 1)]],
  ["derivatives", () => [grad((x: Tensor) => np.sum(np.sin(x).mul(x)))(u), vmap(grad((x: Tensor) => nn.logsumexp(x)))(u), grad((x: Tensor) => np.sum(nn.softplus(x)))(v)]],
  ["jit: fused chains and reductions", () => {
    const f = jit((x: Tensor, y: Tensor) => [np.tanh(x.mul(2).add(y)).sub(x), np.sum(np.exp(x).mul(y), 1), np.max(x.mul(y), 0)]);
    return [f(u, v), f(u.T.T, v.mul(-1)), f(np.astype(u, "float32"), np.astype(v, "float32"))];
  }],
  ["control flow, matmul, special functions", () => [lax.scan((c: Tensor, x: Tensor) => [c.add(x), c.mul(x)], np.zeros([]), v), np.matmul(u, u.T), np.outer(v, v), lax.erf(u), lax.lgamma(np.abs(u)), lax.digamma(np.abs(u))]],
];

/** Every case's snapshot, by name. */
export const snapshots = (): Record<string, string> => Object.fromEntries(CASES.map(([what, run]) => [what, snapshot(run())]));

if (process.argv[1]?.endsWith("no-eval-cases.ts")) console.log(JSON.stringify({ codegen: codegen.enabled, snapshots: snapshots() }));
