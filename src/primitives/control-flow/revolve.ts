// Binomial checkpointing (Griewank's "revolve"; Griewank & Walther, ACM TOMS 2000): reversing a
// chain of `steps` steps while holding at most `snapshots` intermediate states besides the first,
// with the fewest recomputed forward steps. Griewank counts the first state among the checkpoints,
// so with c = snapshots + 1 and r the smallest repetition number such that
// beta(c, r) = C(c + r, c) >= steps, the optimum is r·steps − beta(c + 1, r − 1) forward steps.

/** C(s + r, s) (0 for s < 0), saturating at Number.MAX_SAFE_INTEGER. */
export function beta(s: number, r: number): number {
  if (s < 0 || r < 0) return 0;
  let b = 1;
  for (let i = 1; i <= s; i++) {
    b = (b * (r + i)) / i;
    if (b > Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  }
  return Math.round(b);
}

/** The smallest r with beta(c, r) >= steps (Griewank's repetition number for c checkpoints). */
export function repetitions(steps: number, c: number): number {
  if (c <= 1) return Math.max(0, steps - 1);
  let r = 0;
  while (beta(c, r) < steps) r++;
  return r;
}

/** The optimal number of forward steps recomputed to reverse `steps` steps with `snapshots` snapshots. */
export function optimalRecomputation(steps: number, snapshots: number): number {
  if (steps <= 1) return 0;
  const c = snapshots + 1;
  const r = repetitions(steps, c);
  return r * steps - beta(c + 1, r - 1);
}

/**
 * Where to place the next snapshot, counted from the first state, when reversing `steps` steps
 * with `snapshots` free snapshots. The cost of a split at m is m + t(steps − m, c − 1) + t(m, c)
 * with t the optimum above, a convex function whose increments are repetition numbers:
 * t(x + 1, c) − t(x, c) = repetitions(x + 1, c). So the cost grows from m to m + 1 exactly when
 * 1 + repetitions(m + 1, c) ≥ repetitions(steps − m, c − 1), a condition monotone in m: the first
 * such m, found by bisection, is an optimal split.
 */
export function splitPoint(steps: number, snapshots: number): number {
  const c = snapshots + 1;
  const rising = (m: number): boolean => 1 + repetitions(m + 1, c) >= repetitions(steps - m, c - 1);
  let lo = 1, hi = steps - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rising(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** What the reversal does, in order: advance a state, reverse one step, or drop a snapshot. */
export type RevolveAction =
  | { kind: "advance"; from: number; to: number; snapshot: boolean }
  | { kind: "reverse"; step: number }
  | { kind: "free"; at: number };

/**
 * Calls `act` with the actions that reverse steps [0, steps) — step t maps state t to state t + 1,
 * state 0 is always available — keeping at most `snapshots` other states. A loop over an explicit
 * stack: the schedule's nesting never deepens the JS stack.
 */
export function revolve(steps: number, snapshots: number, act: (a: RevolveAction) => void): void {
  type Task = { kind: "range"; a: number; b: number; s: number } | { kind: "free"; at: number };
  const stack: Task[] = [{ kind: "range", a: 0, b: steps, s: snapshots }];
  for (let task = stack.pop(); task !== undefined; task = stack.pop()) {
    if (task.kind === "free") {
      act({ kind: "free", at: task.at });
      continue;
    }
    const { a, b, s } = task;
    const n = b - a;
    if (n <= 0) continue;
    if (n === 1) {
      act({ kind: "reverse", step: a });
      continue;
    }
    if (s === 0) {
      // No snapshot left: every step is recomputed from state a.
      for (let t = b - 1; t >= a; t--) {
        if (t > a) act({ kind: "advance", from: a, to: t, snapshot: false });
        act({ kind: "reverse", step: t });
      }
      continue;
    }
    const m = a + splitPoint(n, s);
    act({ kind: "advance", from: a, to: m, snapshot: true });
    // Popped in reverse: the tail [m, b) first (with one snapshot fewer), then m is dropped,
    // then the head [a, m).
    stack.push({ kind: "range", a, b: m, s }, { kind: "free", at: m }, { kind: "range", a: m, b, s: s - 1 });
  }
}
