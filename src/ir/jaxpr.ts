import type { Params, Primitive } from "../core/primitive.js";
import type { ShapedArray } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import { type DotOptions, toDot } from "./dot-export.js";
import { printJaxpr } from "./pprint.js";

let nextVarId = 0;

/** A variable of a jaxpr: its identity is the object; names are given when printed. */
export class Var {
  /** Unique, in creation order: lets passes over a jaxpr index an array instead of hashing (see VarTable). */
  readonly id = nextVarId++;
  constructor(readonly aval: ShapedArray) {}
}
/** A scalar constant written inline in an equation. */
export class Literal {
  constructor(
    readonly value: number,
    readonly aval: ShapedArray,
  ) {}
}
export type Atom = Var | Literal;

export class Eqn {
  constructor(
    readonly primitive: Primitive<any>,
    readonly inputs: Atom[],
    readonly params: Params,
    readonly outBinders: Var[],
  ) {}
}

export class Jaxpr {
  constructor(
    readonly constBinders: Var[],
    readonly inBinders: Var[],
    readonly eqns: Eqn[],
    readonly outs: Atom[],
  ) {}
  toString(): string {
    return printJaxpr(this);
  }
}

/** A jaxpr with the values of its constants. */
export class ClosedJaxpr {
  constructor(
    readonly jaxpr: Jaxpr,
    readonly consts: Tensor[],
  ) {}
  toString(): string {
    return printJaxpr(this.jaxpr);
  }
  /** Graphviz DOT of the computation graph: inputs, equations and outputs. */
  toDot(opts?: DotOptions): string {
    return toDot(this.jaxpr, opts);
  }
}
