// What customJvp and customVjp share at the user level: checking that the function and its rules
// agree about the output.
import { describe } from "../core/convert.js";
import { DTypeError, ShapeError, TreeError } from "../core/errors.js";
import { type ShapedArray, sameShape } from "../core/shaped-array.js";
import type { Tensor } from "../core/tensor.js";
import type { TreeDef } from "../core/tree.js";
import { convertElementType } from "../primitives/elementwise.js";

export const pairDesc = (r: unknown): string => (Array.isArray(r) ? `an array of length ${r.length}` : describe(r));
export const leafAt = (i: number, n: number): string => (n > 1 ? ` (leaf ${i})` : "");


/**
 * What one call learns about the function's output from whichever of the function and its rules
 * runs first; the others must agree with it.
 */
export class OutInfo {
  def: TreeDef | null = null;
  private avals: ShapedArray[] = [];
  private who = "";
  constructor(private readonly where: string) {}
  record(def: TreeDef, outs: Tensor[], who: string): Tensor[] {
    if (this.def === null) {
      this.def = def;
      this.avals = outs.map((o) => o.aval);
      this.who = who;
      return outs;
    }
    if (!def.equals(this.def)) throw new TreeError(`${this.where}: ${who} has structure ${def}, but ${this.who} has structure ${this.def}`);
    return outs.map((o, i) => {
      const w = this.avals[i];
      const msg = `${this.where}: ${who}${leafAt(i, outs.length)} is ${o.aval.str()}, but ${this.who}${leafAt(i, outs.length)} is ${w.str()}`;
      if (!sameShape(o.shape, w.shape)) throw new ShapeError(msg);
      if (o.dtype === w.dtype) return o;
      if (o.weakType) return convertElementType(o, w.dtype);
      throw new DTypeError(msg);
    });
  }
}

