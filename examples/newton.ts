// Newton's method on the Rosenbrock function with exact second derivatives: `npx tsx examples/newton.ts`.
//
// f(x, y) = (1 - x)^2 + 100 (y - x^2)^2 has its minimum at (1, 1) at the bottom of a curved valley
// where gradient descent crawls. Newton's step solves H d = -g with g = grad(f) and
// H = hessian(f) = jacfwd(jacrev(f)), and from the classic start (-1.2, 1) it lands on (1, 1) in a
// handful of steps, the error squaring near the end.
import { grad, hessian, np, type Tensor } from "../src/index.js";

const rosenbrock = (p: Tensor): Tensor => {
  const x = p.slice(0), y = p.slice(1);
  return np.add(np.square(np.subtract(1, x)), np.multiply(100, np.square(np.subtract(y, np.square(x)))));
};
const gradF = grad(rosenbrock);
const hessF = hessian(rosenbrock);

/** Solves the small dense system A d = b by Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = c + 1; r < n; r++) {
      const k = M[r][c] / M[c][c];
      for (let j = c; j <= n; j++) M[r][j] -= k * M[c][j];
    }
  }
  const d = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let j = r + 1; j < n; j++) s -= M[r][j] * d[j];
    d[r] = s / M[r][r];
  }
  return d;
}

const fmt = (v: number) => v.toFixed(12).padStart(16);
let p = [-1.2, 1];
console.log("Newton's method on the Rosenbrock function f(x, y) = (1 - x)^2 + 100 (y - x^2)^2");
console.log(`step  ${"x".padStart(16)}  ${"y".padStart(16)}  ${"f(x, y)".padStart(10)}  ${"|grad f|".padStart(10)}`);
for (let k = 0; k <= 50; k++) {
  const pt = np.array(p);
  const g = (gradF(pt) as Tensor).tolist() as number[];
  const gnorm = Math.hypot(...g);
  console.log(`${String(k).padStart(4)}  ${fmt(p[0])}  ${fmt(p[1])}  ${rosenbrock(pt).item().toExponential(3).padStart(10)}  ${gnorm.toExponential(3).padStart(10)}`);
  if (gnorm < 1e-10) {
    console.log(`converged after ${k} Newton steps to (${p[0].toFixed(6)}, ${p[1].toFixed(6)}); the minimum is at (1, 1)`);
    console.log(`Hessian there: ${JSON.stringify((hessF(pt) as Tensor).tolist())} (exact: [[802, -400], [-400, 200]])`);
    break;
  }
  const H = (hessF(pt) as Tensor).tolist() as number[][];
  const d = solve(H, g.map((v) => -v));
  p = p.map((v, i) => v + d[i]);
  if (k === 50) throw new Error("Newton's method did not converge in 50 steps");
}
