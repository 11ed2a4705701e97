/**
 * A parameter of an equation that prints as a short label instead of its contents (a JS function,
 * a list of avals): jaxprs print their params, and a function's source text would be noise.
 */
export class Label<T> {
  constructor(
    readonly value: T,
    private readonly text: string,
  ) {}
  toString(): string {
    return this.text;
  }
}
