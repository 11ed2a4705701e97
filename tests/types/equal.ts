// Type-level assertions for tests/types: `assertType<Equal<A, B>>()` compiles only when A and B are
// the same type (not merely assignable either way), so a result that widens to `any` fails.

/** `true` when `X` and `Y` are identical types, `false` otherwise (`any` equals only `any`). */
export type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;

/** Compiles only when `T` is `true` (an `Equal<...>` that holds); does nothing at run time. */
export function assertType<T extends true>(): T | undefined {
  return undefined;
}
