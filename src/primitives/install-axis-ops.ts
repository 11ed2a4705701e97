// Gives the interpreters (the layer below) the batch-axis operations they need, which are
// primitives of this layer. Imported for its effect wherever the primitives are loaded.
import { installAxisOps } from "../interpreters/axis-ops.js";
import { broadcastBatch, moveBatchAxis } from "./batching.js";
import { reduceSum } from "./reduce.js";

installAxisOps({ moveAxis: moveBatchAxis, broadcastBatch, sumLeading: (x) => reduceSum(x, [0]) });
