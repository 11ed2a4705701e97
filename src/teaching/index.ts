// The seed chapter's tables and figures, produced by the library itself.
export { traceTable, TraceTable } from "./trace-table.js";
export type { TraceRow, TraceTableOptions, TraceValue } from "./trace-table.js";
export { computationGraph } from "./computation-graph.js";
export type { ComputationGraphOptions } from "./computation-graph.js";
