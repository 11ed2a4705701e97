// A typechecker for jaxprs (JAX's core.check_jaxpr): variables defined once and before use, and
// every equation's outputs what its primitive's abstract evaluation says. The jaxprs that control
// flow, checkpoint and the custom rules rebuild by hand are checked with it in the tests.
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { InternalError } from "../core/errors.js";
import { sameShape } from "../core/shaped-array.js";
import { type Atom, ClosedJaxpr, Jaxpr, Var } from "./jaxpr.js";

/** Every problem of `jaxpr` and of the jaxprs in its equations' params, or the jaxpr when there is none. */
export function typecheckJaxpr(jaxpr: Jaxpr): E.Either<string[], Jaxpr> {
  const problems: string[] = [];
  // A worklist rather than recursion: nesting depth is the user's (cond in scan in cond ...).
  const work: [Jaxpr, string][] = [[jaxpr, "jaxpr"]];
  for (let item = work.pop(); item !== undefined; item = work.pop()) {
    const [j, where] = item;
    problems.push(...checkOne(j, where));
    j.eqns.forEach((e, k) => {
      for (const [name, value] of Object.entries(e.params)) {
        const inner = Array.isArray(value) ? value : [value];
        inner.forEach((v, m) => {
          if (v instanceof ClosedJaxpr) work.push([v.jaxpr, `${where}, equation ${k} (${e.primitive.name}), param ${name}${Array.isArray(value) ? `[${m}]` : ""}`]);
        });
      }
    });
  }
  return problems.length === 0 ? E.right(jaxpr) : E.left(problems);
}

function checkOne(j: Jaxpr, where: string): string[] {
  const problems: string[] = [];
  const defined = new Set<Var>();
  const define = (v: Var, what: string): void => {
    if (defined.has(v)) problems.push(`${where}: ${what} defines a variable a second time`);
    defined.add(v);
  };
  j.constBinders.forEach((v, i) => define(v, `const binder ${i}`));
  j.inBinders.forEach((v, i) => define(v, `input binder ${i}`));
  const use = (a: Atom, what: string): void => {
    if (a instanceof Var) {
      if (!defined.has(a)) problems.push(`${where}: ${what} reads a variable that is not defined before it`);
    } else if (a.aval.ndim !== 0) {
      problems.push(`${where}: ${what} is a literal of shape [${a.aval.shape.join(",")}]; literals are scalars`);
    }
  };
  j.eqns.forEach((e, k) => {
    const what = `equation ${k} (${e.primitive.name})`;
    e.inputs.forEach((a, i) => use(a, `${what}, input ${i},`));
    try {
      const avals = e.primitive.abstractEval(e.inputs.map((a) => a.aval), e.params);
      if (avals.length !== e.outBinders.length) problems.push(`${where}: ${what} has ${e.outBinders.length} outputs, but its primitive gives ${avals.length}`);
      avals.forEach((a, i) => {
        const v = e.outBinders[i];
        if (v !== undefined && (!sameShape(a.shape, v.aval.shape) || a.dtype !== v.aval.dtype)) {
          problems.push(`${where}: ${what}, output ${i} is declared ${v.aval.str()}, but its primitive gives ${a.str()}`);
        }
      });
    } catch (err) {
      problems.push(`${where}: ${what} rejects its inputs: ${(err as Error).message}`);
    }
    e.outBinders.forEach((v, i) => define(v, `${what}, output ${i},`));
  });
  j.outs.forEach((a, i) => use(a, `output ${i}`));
  return problems;
}

/** Throws an InternalError naming every problem of `jaxpr`; returns it unchanged when it typechecks. */
export function checkJaxpr(jaxpr: Jaxpr): Jaxpr {
  return pipe(
    typecheckJaxpr(jaxpr),
    E.getOrElse((problems): Jaxpr => {
      throw new InternalError(`a jaxpr does not typecheck:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    }),
  );
}

/** Whether hand-built jaxprs are checked as they are made (the test suites turn it on). */
export const debugChecks = { jaxprs: false };

/** `c`, after checking it when debug checks are on: call it where a jaxpr is rebuilt by hand. */
export function checked(c: ClosedJaxpr): ClosedJaxpr {
  if (debugChecks.jaxprs) checkJaxpr(c.jaxpr);
  return c;
}
