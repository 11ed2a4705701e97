// Global switches, as JAX's `jax.config.update(name, value)`.
import { JacobiError } from "./errors.js";

export interface Flags {
  /** Log every trace and compile of a jit-staged function, with its signature and the time taken. */
  logCompiles: boolean;
}

const flags: Flags = { logCompiles: false };

export const config = {
  /** Sets a flag; an unknown name or a value of the wrong type is a JacobiError. */
  update<K extends keyof Flags>(name: K, value: Flags[K]): void {
    if (!Object.prototype.hasOwnProperty.call(flags, name)) {
      throw new JacobiError(`config.update: unknown option ${JSON.stringify(name)}; known options: ${Object.keys(flags).join(", ")}`);
    }
    if (typeof value !== typeof flags[name]) throw new JacobiError(`config.update: ${name} must be a ${typeof flags[name]}, got ${typeof value}`);
    flags[name] = value;
  },
  /** The current value of a flag. */
  read<K extends keyof Flags>(name: K): Flags[K] {
    return flags[name];
  },
};
