// The reliability tests' helpers now live in tests/helpers.ts, shared by all test files.
export { bytesOf, flat, sameNumbers, throwsExactly } from "../helpers.js";
