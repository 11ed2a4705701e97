// Shapes and contractions of issue 10 item 3 against NumPy (tests/fixtures/gen-numpy-extra.py),
// their derivatives (checkGrads in both modes), vmap against a loop, jit against eager, and
// einsum's pairwise contractions as single dot_generals.
import { test } from "uvu";
import { guardTraceState } from "../guard.js";
guardTraceState(test);
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { JacobiError, OptionsError, ShapeError, type Tensor, checkGrads, jit, makeJaxpr, np, vmap } from "../../src/index.js";
import { close, throwsWith } from "../helpers.js";

const fx = JSON.parse(readFileSync(new URL("../fixtures/numpy-extra.json", import.meta.url), "utf8"));
const [x, x3, v, w, A, B, C, u] = ["x", "x3", "v", "w", "A", "B", "C", "u"].map((k) => np.array(fx[k]) as Tensor);

test("flip, roll, swapaxes, moveaxis, tile, repeat against NumPy", () => {
  close(np.flip(x), fx.flip);
  close(np.flip(x3, 1), fx.flip_1);
  assert.is(np.flip(np.array(3)).item(), 3);
  close(np.roll(x, 5), fx.roll);
  close(np.roll(x3, [1, -2], [0, 2]), fx.roll_ax);
  close(np.roll(np.zeros([0, 2]), 1, 0), []);
  close(np.swapaxes(x3, 0, 2), fx.swapaxes);
  close(np.moveaxis(x3, [0, 1], [2, 0]), fx.moveaxis);
  close(np.tile(w, [2, 3]), fx.tile);
  close(np.tile(x, 2), fx.tile2);
  close(np.repeat(x, 2, 1), fx.repeat);
  close(np.repeat(x, 2), fx.repeat_flat);
  close(np.repeat(x, [1, 0, 2], 0), fx.repeat_list);
  throwsWith(() => np.roll(x, [1, 2]), ShapeError, ["list of axes"]);
  throwsWith(() => np.roll(x, [1, 2], [0]), ShapeError, ["2 shifts for 1 axes"]);
  throwsWith(() => np.roll(x, 1.5, 0), ShapeError, ["integer"]);
  throwsWith(() => np.swapaxes(x, 0, 2), ShapeError, ["axis 2 is out of bounds"]);
  throwsWith(() => np.moveaxis(x3, [0, 1], [2]), ShapeError, ["same number"]);
  throwsWith(() => np.moveaxis(x3, [0, 0], [1, 2]), ShapeError, ["repeated"]);
  throwsWith(() => np.tile(x, -1), ShapeError, ["non-negative"]);
  throwsWith(() => np.repeat(x, [1, 2], 0), ShapeError, ["3 non-negative integers"]);
  throwsWith(() => np.repeat(x, -1, 0), ShapeError, ["non-negative integer"]);
});

test("split, pad (all five modes), append, tril/triu, diag, diagonal, trace, meshgrid, ravel, atleast1d", () => {
  np.split(x, 2, 1).forEach((p, i) => close(p, fx.split[i]));
  np.split(x3, [1, 3], 2).forEach((p, i) => close(p, fx.split_at[i]));
  throwsWith(() => np.split(x, 3, 1), ShapeError, ["equal division"]);
  close(np.pad(x, [[1, 0], [2, 1]], { constantValues: 7 }), fx.pad_const);
  close(np.pad(x, 2, { mode: "edge" }), fx.pad_edge);
  close(np.pad(x, [[2, 1], [3, 3]], { mode: "reflect" }), fx.pad_reflect);
  close(np.pad(x, [[2, 1], [3, 5]], { mode: "symmetric" }), fx.pad_symmetric);
  close(np.pad(x, [[2, 1], [3, 4]], { mode: "wrap" }), fx.pad_wrap);
  close(np.pad(np.array([5]), [2, 1], { mode: "reflect" }), [5, 5, 5, 5]);
  throwsWith(() => np.pad(x, 1, { mode: "mean" as never }), OptionsError, ["mode must be one of"]);
  throwsWith(() => np.pad(x, 1, { constant: 1 } as never), OptionsError, ['unknown option "constant"']);
  throwsWith(() => np.pad(x, 1, { constantValues: "1" } as never), OptionsError, ["constantValues must be a number"]);
  throwsWith(() => np.pad(x, [[1, 1]]), ShapeError, ["one pair per axis"]);
  throwsWith(() => np.pad(np.zeros([0]), 1, { mode: "edge" }), ShapeError, ["empty axis"]);
  close(np.append(x, w), fx.append);
  close(np.append(x, np.slice(x, [0, 1]), 0), fx.append_0);
  close(np.tril(x), fx.tril);
  close(np.tril(x3, -1), fx.tril_m1);
  close(np.triu(x, 1), fx.triu_1);
  throwsWith(() => np.tril(v), ShapeError, ["at least 2 dimensions"]);
  close(np.diag(v, -1), fx.diag_v);
  close(np.diag(x, 1), fx.diag_m);
  assert.equal(np.diag(np.zeros([0])).shape, [0, 0]);
  throwsWith(() => np.diag(x3), ShapeError, ["1-D or 2-D"]);
  close(np.diagonal(x3, 1, 1, 2), fx.diagonal);
  close(np.diagonal(x, -1), fx.diagonal_neg);
  throwsWith(() => np.diagonal(v), ShapeError, ["at least 2"]);
  throwsWith(() => np.diagonal(x, 0, 1, 1), ShapeError, ["cannot be the same"]);
  close(np.trace(x), fx.trace);
  close(np.trace(x3, 0, 0, 2), fx.trace3);
  np.meshgrid(v, w).forEach((g, i) => close(g, fx.meshgrid_xy[i]));
  np.meshgrid(v, w, np.slice(u, 0), { indexing: "ij" }).forEach((g, i) => close(g, fx.meshgrid_ij[i]));
  throwsWith(() => np.meshgrid(v, { index: "ij" } as never), OptionsError, ['unknown option "index"']);
  assert.equal(np.ravel(x3).shape, [24]);
  assert.equal((np.atleast1d(2) as Tensor).shape, [1]);
  assert.equal((np.atleast1d(x, 1) as Tensor[]).map((t) => t.shape), [[3, 4], [1]]);
  throwsWith(() => np.atleast1d(), JacobiError, ["at least one"]);
});

test("einsum against NumPy: products, chains, traces, diagonals, ellipsis, implicit output", () => {
  close(np.einsum("ij,jk->ik", x, B), fx.einsum_mm);
  close(np.einsum("ij,jk,kl->il", x, B, C), fx.einsum_chain, 1e-12);
  close(np.einsum("ii", A), fx.einsum_trace);
  close(np.einsum("ii->i", A), fx.einsum_diag);
  close(np.einsum("i,j", v, w), fx.einsum_outer);
  close(np.einsum("ij,jk", x, B), fx.einsum_implicit);
  close(np.einsum("...j,jk->...k", x3, B), fx.einsum_ell);
  close(np.einsum("bij,bjk->bik", x3, np.stack([B, B])), fx.einsum_batch);
  close(np.einsum("ijk->j", x3), fx.einsum_sum);
  close(np.einsum("iij->j", np.stack([A, A, A], -1)), fx.einsum_rep);
  close(np.einsum("...ij,...j->...i", x3, v), fx.einsum_bcast);
  close(np.einsum("i,i->", np.array([1, 2], "int32"), np.array([3, 4], "int32")), 11);
  close(np.einsum("ij->ji", x), np.transpose(x));
  // A size-1 axis broadcasts against the other operand's, as in NumPy.
  close(np.einsum("ij,ij->ij", np.ones([1, 4]), x), x);
  close(np.einsum("i,j->ij", np.ones([1]), w), [fx.w]);
  throwsWith(() => np.einsum("ij,jk->ik", x), ShapeError, ["2 operands, got 1"]);
  throwsWith(() => np.einsum("ij->i", v), ShapeError, ["name 2 axes"]);
  throwsWith(() => np.einsum("i1->i", v), ShapeError, ["invalid subscript"]);
  throwsWith(() => np.einsum("i->ii", v), ShapeError, ["repeated subscript in the output"]);
  throwsWith(() => np.einsum("i->j", v), ShapeError, ["does not appear"]);
  throwsWith(() => np.einsum("i,i->i", v, w), ShapeError, ["sizes"]);
  throwsWith(() => np.einsum("ii->i", x), ShapeError, ["sizes 3 and 4"]);
  throwsWith(() => np.einsum(3 as never), ShapeError, ["subscripts string"]);
});

test("einsum contracts pairwise in the greedy order, each pair one dot_general", () => {
  // (x B) C costs far more than x (B C) here: the greedy order picks B·C first (smallest result).
  const jp = makeJaxpr((a: Tensor, b: Tensor, c: Tensor) => np.einsum("ij,jk,kl->il", a, b, c))(x, B, C);
  const eqns = jp.jaxpr.eqns.map((e) => e.primitive.name);
  assert.is(eqns.filter((n) => n === "dot_general").length, 2);
  assert.not.ok(eqns.includes("mul"), String(jp));
  const first = jp.jaxpr.eqns.find((e) => e.primitive.name === "dot_general")!;
  assert.equal(first.inputs.map((i) => (i as unknown as { aval: { shape: number[] } }).aval.shape), [[4, 5], [5, 2]]);
  // A 3-operand product with a shared batch label stays one dot_general per pair.
  const jb = makeJaxpr((a: Tensor) => np.einsum("bij,bjk,bkl->bil", a, np.swapaxes(a, 1, 2), a))(x3);
  assert.is(jb.jaxpr.eqns.filter((e) => e.primitive.name === "dot_general").length, 2);
});

test("tensordot, vdot, inner, kron, cross, matvec against NumPy", () => {
  close(np.tensordot(x3, B, 1), fx.tensordot);
  close(np.tensordot(x3, x, [[1, 2], [0, 1]]), fx.tensordot_ax);
  close(np.tensordot(x, B, [1, 0]), fx.einsum_mm);
  close(np.tensordot(v, v, 0), np.outer(v, v));
  throwsWith(() => np.tensordot(x, B, 3), ShapeError, ["out of range"]);
  throwsWith(() => np.tensordot(x, B, [[0, 1], [0]]), ShapeError, ["different lengths"]);
  throwsWith(() => np.tensordot(x, B, [0, 0]), ShapeError, ["shape mismatch"]);
  close(np.vdot(x, x), fx.vdot);
  throwsWith(() => np.vdot(x, v), ShapeError, ["sizes 12 and 4"]);
  close(np.inner(x3, x), fx.inner);
  close(np.inner(2, v), np.multiply(2, v));
  throwsWith(() => np.inner(x, w), ShapeError, ["last axes"]);
  close(np.kron(u, A), fx.kron);
  close(np.kron(v, w), fx.kron_v);
  close(np.cross(u, np.flip(u, 0)), fx.cross);
  close(np.cross(np.slice(u, null, [0, 2]), np.slice(np.flip(u, 0), null, [0, 2])), fx.cross2);
  throwsWith(() => np.cross(v, v), ShapeError, ["must be 2 or 3"]);
  close(np.matvec(x3, v), fx.matvec);
  throwsWith(() => np.matvec(v, v), ShapeError, ["a matrix and a vector"]);
});

test("derivatives: checkGrads in both modes through the shape functions and contractions", () => {
  const opts = { order: 2, modes: ["fwd", "rev"] as ("fwd" | "rev")[] };
  checkGrads((a: Tensor) => np.sum(np.multiply(np.roll(np.flip(a, 0), 1, 1), np.tril(a))), [x], opts);
  checkGrads((a: Tensor) => np.sum(np.square(np.pad(a, [[1, 2], [2, 1]], { mode: "reflect" }))), [x], opts);
  checkGrads((a: Tensor) => np.sum(np.square(np.tile(np.repeat(a, 2, 0), [1, 2]))), [x], opts);
  checkGrads((a: Tensor) => np.add(np.trace(np.multiply(a, a)), np.sum(np.diag(np.diagonal(a)))), [A], opts);
  checkGrads((a: Tensor, b: Tensor, c: Tensor) => np.sum(np.sin(np.einsum("ij,jk,kl->il", a, b, c))), [x, B, C], { ...opts, order: 1 });
  checkGrads((a: Tensor) => np.einsum("ii", np.multiply(a, a)), [A], opts);
  checkGrads((a: Tensor, b: Tensor) => np.sum(np.kron(a, b)), [u, A], opts);
  checkGrads((a: Tensor, b: Tensor) => np.sum(np.square(np.cross(a, b))), [u, np.flip(u, 0)], opts);
  checkGrads((a: Tensor, b: Tensor) => np.add(np.vdot(a, a), np.sum(np.tensordot(a, b, 1))), [x, B], opts);
});

test("vmap against a loop and jit against eager", () => {
  const f = (a: Tensor) => np.einsum("ij,j->i", np.pad(a, 1, { mode: "edge" }), np.roll(np.arange(6), 2));
  const rows = [0, 1].map((i) => f(np.slice(x3, i)));
  close(vmap(f)(x3), np.stack(rows));
  close(jit(f)(np.slice(x3, 0)), rows[0]);
  const g = (a: Tensor) => np.kron(np.triu(a), np.diag(np.diagonal(a)));
  close(vmap(g)(np.stack([A, np.multiply(A, 2)])), np.stack([g(A), g(np.multiply(A, 2))]));
  close(jit(g)(A), g(A));
});
test.run();
