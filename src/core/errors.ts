/** Base class of every error jacobi throws on purpose. */
export class JacobiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** Shapes that do not fit an operation; the message names the operation and every shape. */
export class ShapeError extends JacobiError {}
/** A dtype an operation cannot take (an integer input to `grad`, say). */
export class DTypeError extends JacobiError {}
/** A concrete value was asked of an abstract tracer (inside `makeJaxpr` or `jit`). */
export class ConcretizationError extends JacobiError {}
/** A tracer was used after the transformation that made it had ended. */
export class EscapedTracerError extends JacobiError {}
/** Pytree structures that should match do not. */
export class TreeError extends JacobiError {}
/**
 * An invariant of the library itself was violated (a transpose rule asked about an input it cannot
 * be linear in, say): a bug in jacobi or in a rule declared with it, not in the caller's input.
 */
export class InternalError extends JacobiError {}
/** An options object with unknown keys or bad values: `problems` lists every one, the message all of them. */
export class OptionsError extends JacobiError {
  constructor(
    readonly where: string,
    readonly problems: readonly string[],
  ) {
    super(`${where}: ${problems.join("; ")}`);
  }
}

export const fmtShape = (s: readonly number[]): string => `[${s.join(",")}]`;

/** A tracer used after its transformation ended: shared by `bind` and by reads of its value. */
export function escapedTracerError(shape: readonly number[], dtype: string, transform: string): EscapedTracerError {
  return new EscapedTracerError(
    `a tracer of shape ${fmtShape(shape)} and dtype ${dtype} from ${transform} was used after ` +
      `that transformation ended (it escaped, e.g. stored in an outer variable); return it from the function instead`,
  );
}
