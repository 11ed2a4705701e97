// Kept while src/index.ts still imports "./nn.js": the nn namespace lives in src/nn/.
export { nn } from "./nn/index.js";
