// Fitting the hyperparameters of a Gaussian process: `npx tsx examples/gaussian-process.ts`.
//
// The data set is generated here, from a fixed seed, so that the right answer is known: 150
// inputs drawn uniformly on [0, 10], a function drawn from a GP prior with a squared-exponential
// kernel (lengthscale 1.5, signal scale 1.0), observed with Gaussian noise of scale 0.2. The fit
// maximizes the log marginal likelihood
//   log p(y | X, theta) = -1/2 y^T K^-1 y - 1/2 log det K - n/2 log 2 pi,   K = k_theta(X, X) + s_n^2 I
// over theta = (log lengthscale, log signal scale, log noise scale), with optim.adam on its
// gradient (grad of a function built on np.linalg.cholesky and scipy.linalg.choSolve, one
// jit-compiled step). It prints the log marginal likelihood at every step and the fitted values
// beside the generating ones.
//
// Options (flags or environment variables, for shorter runs):
//   --steps N  (GP_STEPS)  Adam steps, default 150
//   --lr X     (GP_LR)     learning rate, default 0.05
import { type Tensor, grad, jit, np, optim, random, scipy } from "../src/index.js";

function option(flag: string, env: string, fallback: string): string {
  const i = process.argv.indexOf(`--${flag}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  return process.env[env] ?? fallback;
}
const steps = Number(option("steps", "GP_STEPS", "150"));
const lr = Number(option("lr", "GP_LR", "0.05"));
if (!(Number.isInteger(steps) && steps >= 1 && lr > 0)) throw new Error(`gaussian-process: bad options steps ${steps}, lr ${lr}`);

type Theta = { logEll: Tensor; logSf: Tensor; logSn: Tensor };
const N = 150;
const TRUE = { ell: 1.5, sf: 1.0, sn: 0.2 };

/** The squared-exponential covariance of inputs x (n) with themselves, plus noise on the diagonal. */
function covariance(x: Tensor, p: Theta): Tensor {
  const d2 = np.square(np.subtract(np.expandDims(x, 1), np.expandDims(x, 0)));
  const kse = np.multiply(np.exp(np.multiply(2, p.logSf)), np.exp(np.multiply(-0.5, np.multiply(d2, np.exp(np.multiply(-2, p.logEll))))));
  return np.add(kse, np.multiply(np.exp(np.multiply(2, p.logSn)), np.eye(x.shape[0])));
}

/** log p(y | x, theta), from the Cholesky factor: log det K = 2 sum log diag L. */
function logMarginalLikelihood(p: Theta, x: Tensor, y: Tensor): Tensor {
  const l = np.linalg.cholesky(covariance(x, p));
  const alpha = scipy.linalg.choSolve([l, true], y);
  const halfLogdet = np.sum(np.log(np.sum(np.multiply(l, np.eye(x.shape[0])), 1)));
  return np.subtract(np.subtract(np.multiply(-0.5, np.dot(y, alpha)), halfLogdet), 0.5 * x.shape[0] * Math.log(2 * Math.PI));
}

// ---- data: one draw from the generating GP, from a fixed key ----
const [kx, kf, ke] = [0, 1, 2].map((i) => np.take(random.split(random.key(2024), 3), i, 0));
const x = random.uniform(kx, [N], { minval: 0, maxval: 10 });
const truth: Theta = { logEll: np.array(Math.log(TRUE.ell)), logSf: np.array(Math.log(TRUE.sf)), logSn: np.array(Math.log(1e-3)) };
const f = np.matmul(np.linalg.cholesky(covariance(x, truth)), random.normal(kf, [N]));
const y = np.add(f, np.multiply(TRUE.sn, random.normal(ke, [N])));
console.log(`data: ${N} points of a GP draw (lengthscale ${TRUE.ell}, signal scale ${TRUE.sf}) with noise scale ${TRUE.sn}, generated from random.key(2024)`);

// ---- fit: Adam on the negative log marginal likelihood ----
const optimizer = optim.adam(lr);
let theta: Theta = { logEll: np.array(Math.log(0.5)), logSf: np.array(Math.log(0.5)), logSn: np.array(Math.log(0.5)) };
let state = optimizer.init(theta);
const negLml = (p: Theta) => np.negative(logMarginalLikelihood(p, x, y));
const step = jit((p: Theta, s: typeof state) => {
  const [updates, next] = optimizer.update(grad(negLml)(p), s, p);
  return [optim.applyUpdates(p, updates), next] as const;
});
const lmlOf = jit((p: Theta) => logMarginalLikelihood(p, x, y));

const first = lmlOf(theta).item();
console.log(`step 0  log marginal likelihood ${first.toFixed(4)}`);
for (let k = 1; k <= steps; k++) {
  [theta, state] = step(theta, state);
  console.log(`step ${k}  log marginal likelihood ${lmlOf(theta).item().toFixed(4)}`);
}
const fitted = { ell: Math.exp(theta.logEll.item()), sf: Math.exp(theta.logSf.item()), sn: Math.exp(theta.logSn.item()) };
console.log(`fitted: lengthscale ${fitted.ell.toFixed(3)} (generating ${TRUE.ell}), signal scale ${fitted.sf.toFixed(3)} (generating ${TRUE.sf}), noise scale ${fitted.sn.toFixed(3)} (generating ${TRUE.sn})`);
