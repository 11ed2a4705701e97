// A pendulum whose equations of motion come from grad of its Hamiltonian: `npx tsx examples/physics.ts`.
//
// H(q, p) = p^2 / (2 m l^2) + m g l (1 - cos q). Hamilton's equations dq/dt = dH/dp, dp/dt = -dH/dq
// are read off grad(H); nobody writes the force -m g l sin q by hand. The leapfrog (Stormer-Verlet)
// integrator is symplectic, so its energy error stays bounded; explicit Euler on the same
// equations gains energy every step. The period is checked against the exact elliptic-integral value.
import { grad, np, type Tensor } from "../src/index.js";

const m = 1, l = 1, g = 9.81;
const H = (q: Tensor | number, p: Tensor | number): Tensor =>
  np.add(np.divide(np.square(p), 2 * m * l * l), np.multiply(m * g * l, np.subtract(1, np.cos(q))));
const dH = grad(H, { argnums: [0, 1] });
const partials = (q: number, p: number): [number, number] => {
  const [hq, hp] = dH(q, p) as Tensor[];
  return [hq.item(), hp.item()];
};
const energy = (q: number, p: number): number => H(q, p).item();

const q0 = 2.0, p0 = 0; // released from rest at about 115 degrees: far from the small-angle regime
const dt = 0.01, steps = 2000, reportEvery = 500;

/** Leapfrog: half kick, drift, half kick. */
function leapfrog(q: number, p: number): [number, number] {
  const pHalf = p - 0.5 * dt * partials(q, p)[0];
  const qNext = q + dt * partials(q, pHalf)[1];
  return [qNext, pHalf - 0.5 * dt * partials(qNext, pHalf)[0]];
}
/** Explicit Euler: both derivatives at the start of the step. */
function euler(q: number, p: number): [number, number] {
  const [hq, hp] = partials(q, p);
  return [q + dt * hp, p - dt * hq];
}

function simulate(step: (q: number, p: number) => [number, number]) {
  const e0 = energy(q0, p0);
  let q = q0, p = p0, drift = 0;
  const crossings: number[] = [], driftSoFar: number[] = [];
  for (let k = 1; k <= steps; k++) {
    const [qn, pn] = step(q, p);
    // Upward zero crossings of q, linearly interpolated, measure the period.
    if (q < 0 && qn >= 0) crossings.push((k - 1 + -q / (qn - q)) * dt);
    q = qn;
    p = pn;
    drift = Math.max(drift, Math.abs(energy(q, p) - e0) / e0);
    if (k % reportEvery === 0) driftSoFar.push(drift);
  }
  const periods = crossings.slice(1).map((t, i) => t - crossings[i]);
  const period = periods.length > 0 ? periods.reduce((a, b) => a + b, 0) / periods.length : NaN;
  return { drift, driftSoFar, finalEnergy: energy(q, p), e0, period };
}

// Exact period: T = 4 sqrt(l/g) K(sin(q0/2)), with K from the arithmetic-geometric mean.
function agm(a: number, b: number): number {
  while (Math.abs(a - b) > 1e-15 * a) [a, b] = [(a + b) / 2, Math.sqrt(a * b)];
  return a;
}
const k = Math.sin(q0 / 2);
const exactPeriod = (4 * Math.sqrt(l / g) * Math.PI) / (2 * agm(1, Math.sqrt(1 - k * k)));

console.log(`Pendulum m = ${m}, l = ${l}, g = ${g}; released from q0 = ${q0} rad at rest; dt = ${dt}, ${steps} steps (${steps * dt} s)`);
console.log("Equations of motion from grad(H, { argnums: [0, 1] }): dq/dt = dH/dp, dp/dt = -dH/dq");
const [hq, hp] = partials(q0, 0.5);
console.log(`  check at (q, p) = (${q0}, 0.5): dH/dq = ${hq.toFixed(6)} (m g l sin q = ${(m * g * l * Math.sin(q0)).toFixed(6)}), dH/dp = ${hp.toFixed(6)} (p / (m l^2) = 0.500000)`);

const t0 = performance.now();
const lf = simulate(leapfrog);
const eu = simulate(euler);
console.log("\nmax relative energy drift |H - H0| / H0 so far:");
console.log(`${"t".padStart(6)}  ${"leapfrog".padStart(10)}  ${"Euler".padStart(10)}`);
lf.driftSoFar.forEach((d, i) => console.log(`${`${((i + 1) * reportEvery * dt).toFixed(0)} s`.padStart(6)}  ${d.toExponential(2).padStart(10)}  ${eu.driftSoFar[i].toExponential(2).padStart(10)}`));
console.log(`\nleapfrog (symplectic): energy ${lf.e0.toFixed(6)} -> ${lf.finalEnergy.toFixed(6)}, max relative energy drift ${lf.drift.toExponential(2)}`);
console.log(`explicit Euler:        energy ${eu.e0.toFixed(6)} -> ${eu.finalEnergy.toFixed(6)}, max relative energy drift ${eu.drift.toExponential(2)}`);
console.log(`\nperiod: leapfrog ${lf.period.toFixed(4)} s, exact ${exactPeriod.toFixed(4)} s (small-angle formula 2 pi sqrt(l/g) = ${(2 * Math.PI * Math.sqrt(l / g)).toFixed(4)} s)`);
console.log(`energy drift (leapfrog): ${lf.drift.toExponential(2)}`);
console.log(`simulated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
