;; GEMM kernels for jacobi's matmul: C[m, n] += A[m, k] B[k, n] on 128-bit SIMD lanes, in the
;; BLIS layout. B is packed once, before any thread starts, into NR-column panels per block of KC
;; rows (kc rows of NR values); each MC x KC block of A into MR-row panels (kc rows of MR values, so
;; one row of the panel is one value per row of the tile), and each MR x NR tile of C accumulates
;; in registers over the block's kc products before it is added to C.
;;
;; float64: 4 x 4 tiles on f64x2 lanes (8 accumulators); float32: 4 x 8 tiles on f32x4 lanes.
;; Products and sums stay separate (no fused multiply-add), each lane sums p in increasing order
;; from zero within a KC block and adds the block's sum to C: for float64 with KC = 256 this is the
;; order of the JavaScript kernel in structural.ts, so the two give identical bits.
;;
;; Operands live in the imported memory where the caller copied them, addressed in bytes, with
;; strides in elements (any sign). C is row-major with rows ldc elements apart and holds zeros or
;; the values to add to (or subtract from) on entry: the blocked factorizations update blocks of a
;; matrix that stays in this memory between products. The memory is shared so that worker threads can run the same kernels on other
;; rows of C at once, sharing the packed B: everything a call writes besides its rows of C is in
;; its own pa area (edge tiles spill to its first 128 bytes).
(module
  (memory (import "env" "memory") 1 65536 shared)

  ;; Packs `valid` (<= R) lines of kc values into dst as kc groups of R, padding with zeros:
  ;; dst[p * R + r] = src[r * rs + p * ps] (rs, ps in bytes).
  (func $pack_f64 (param $src i32) (param $rs i32) (param $ps i32) (param $dst i32) (param $valid i32) (param $R i32) (param $kc i32)
    (local $p i32) (local $r i32) (local $s i32)
    (if (i32.and (i32.eq (local.get $rs) (i32.const 8)) (i32.eq (local.get $valid) (i32.const 4)))
      (then
        ;; R = valid = 4 adjacent values per group: two vector copies.
        (loop $rows
          (v128.store (local.get $dst) (v128.load (local.get $src)))
          (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
          (local.set $src (i32.add (local.get $src) (local.get $ps)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br_if $rows (i32.lt_u (local.get $p) (local.get $kc))))
        (return)))
    (loop $rows
      (local.set $s (local.get $src))
      (local.set $r (i32.const 0))
      (loop $lanes
        (if (i32.lt_u (local.get $r) (local.get $valid))
          (then
            (f64.store (local.get $dst) (f64.load (local.get $s)))
            (local.set $s (i32.add (local.get $s) (local.get $rs))))
          (else (f64.store (local.get $dst) (f64.const 0))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $lanes (i32.lt_u (local.get $r) (local.get $R))))
      (local.set $src (i32.add (local.get $src) (local.get $ps)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $p) (local.get $kc)))))

  (func $pack_f32 (param $src i32) (param $rs i32) (param $ps i32) (param $dst i32) (param $valid i32) (param $R i32) (param $kc i32)
    (local $p i32) (local $r i32) (local $s i32)
    (if (i32.and (i32.eq (local.get $rs) (i32.const 4)) (i32.eq (local.get $valid) (i32.const 8)))
      (then
        (loop $rows
          (v128.store (local.get $dst) (v128.load (local.get $src)))
          (v128.store offset=16 (local.get $dst) (v128.load offset=16 (local.get $src)))
          (local.set $src (i32.add (local.get $src) (local.get $ps)))
          (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br_if $rows (i32.lt_u (local.get $p) (local.get $kc))))
        (return)))
    (loop $rows
      (local.set $s (local.get $src))
      (local.set $r (i32.const 0))
      (loop $lanes
        (if (i32.lt_u (local.get $r) (local.get $valid))
          (then
            (f32.store (local.get $dst) (f32.load (local.get $s)))
            (local.set $s (i32.add (local.get $s) (local.get $rs))))
          (else (f32.store (local.get $dst) (f32.const 0))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br_if $lanes (i32.lt_u (local.get $r) (local.get $R))))
      (local.set $src (i32.add (local.get $src) (local.get $ps)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $p) (local.get $kc)))))

  ;; Adds the first h rows and w columns of the tile spilled at address 0 (rows of 32 bytes) to C.
  (func $add_edge_f64 (param $s i32) (param $c i32) (param $ldc i32) (param $h i32) (param $w i32)
    (local $r i32) (local $j i32) (local $t i32) (local $o i32)
    (loop $rows
      (local.set $j (i32.const 0))
      (local.set $o (local.get $c))
      (local.set $t (i32.add (local.get $s) (i32.shl (local.get $r) (i32.const 5))))
      (loop $cols
        (f64.store (local.get $o) (f64.add (f64.load (local.get $o)) (f64.load (local.get $t))))
        (local.set $o (i32.add (local.get $o) (i32.const 8)))
        (local.set $t (i32.add (local.get $t) (i32.const 8)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $cols (i32.lt_u (local.get $j) (local.get $w))))
      (local.set $c (i32.add (local.get $c) (local.get $ldc)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $r) (local.get $h)))))

  (func $add_edge_f32 (param $s i32) (param $c i32) (param $ldc i32) (param $h i32) (param $w i32)
    (local $r i32) (local $j i32) (local $t i32) (local $o i32)
    (loop $rows
      (local.set $j (i32.const 0))
      (local.set $o (local.get $c))
      (local.set $t (i32.add (local.get $s) (i32.shl (local.get $r) (i32.const 5))))
      (loop $cols
        (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (local.get $t))))
        (local.set $o (i32.add (local.get $o) (i32.const 4)))
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $cols (i32.lt_u (local.get $j) (local.get $w))))
      (local.set $c (i32.add (local.get $c) (local.get $ldc)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rows (i32.lt_u (local.get $r) (local.get $h)))))

  ;; One 4 x 4 float64 tile: C[0:h, 0:w] += sum over kc of (column of pa) x (row of pb).
  (func $tile_f64 (param $s i32) (param $kc i32) (param $pa i32) (param $pb i32) (param $c i32) (param $ldc i32) (param $h i32) (param $w i32) (param $sub i32)
    (local $b0 v128) (local $b1 v128) (local $x v128) (local $end i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $kc) (i32.const 5))))
    (loop $k
      (local.set $b0 (v128.load (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $x (v128.load64_splat (local.get $pa)))
      (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $x) (local.get $b0))))
      (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load64_splat offset=8 (local.get $pa)))
      (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $x) (local.get $b0))))
      (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load64_splat offset=16 (local.get $pa)))
      (local.set $c20 (f64x2.add (local.get $c20) (f64x2.mul (local.get $x) (local.get $b0))))
      (local.set $c21 (f64x2.add (local.get $c21) (f64x2.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load64_splat offset=24 (local.get $pa)))
      (local.set $c30 (f64x2.add (local.get $c30) (f64x2.mul (local.get $x) (local.get $b0))))
      (local.set $c31 (f64x2.add (local.get $c31) (f64x2.mul (local.get $x) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 32)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
      (br_if $k (i32.lt_u (local.get $pa) (local.get $end))))
    ;; C -= A B: the sums negated (exactly) before they are added.
    (if (local.get $sub)
      (then
        (local.set $c00 (f64x2.neg (local.get $c00)))
        (local.set $c01 (f64x2.neg (local.get $c01)))
        (local.set $c10 (f64x2.neg (local.get $c10)))
        (local.set $c11 (f64x2.neg (local.get $c11)))
        (local.set $c20 (f64x2.neg (local.get $c20)))
        (local.set $c21 (f64x2.neg (local.get $c21)))
        (local.set $c30 (f64x2.neg (local.get $c30)))
        (local.set $c31 (f64x2.neg (local.get $c31)))))
    (if (i32.and (i32.eq (local.get $h) (i32.const 4)) (i32.eq (local.get $w) (i32.const 4)))
      (then
        (v128.store (local.get $c) (f64x2.add (v128.load (local.get $c)) (local.get $c00)))
        (v128.store offset=16 (local.get $c) (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store (local.get $c) (f64x2.add (v128.load (local.get $c)) (local.get $c10)))
        (v128.store offset=16 (local.get $c) (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c11)))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store (local.get $c) (f64x2.add (v128.load (local.get $c)) (local.get $c20)))
        (v128.store offset=16 (local.get $c) (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c21)))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store (local.get $c) (f64x2.add (v128.load (local.get $c)) (local.get $c30)))
        (v128.store offset=16 (local.get $c) (f64x2.add (v128.load offset=16 (local.get $c)) (local.get $c31))))
      (else
        (v128.store (local.get $s) (local.get $c00))
        (v128.store offset=16 (local.get $s) (local.get $c01))
        (v128.store offset=32 (local.get $s) (local.get $c10))
        (v128.store offset=48 (local.get $s) (local.get $c11))
        (v128.store offset=64 (local.get $s) (local.get $c20))
        (v128.store offset=80 (local.get $s) (local.get $c21))
        (v128.store offset=96 (local.get $s) (local.get $c30))
        (v128.store offset=112 (local.get $s) (local.get $c31))
        (call $add_edge_f64 (local.get $s) (local.get $c) (local.get $ldc) (local.get $h) (local.get $w)))))

  ;; One 4 x 8 float32 tile.
  (func $tile_f32 (param $s i32) (param $kc i32) (param $pa i32) (param $pb i32) (param $c i32) (param $ldc i32) (param $h i32) (param $w i32) (param $sub i32)
    (local $b0 v128) (local $b1 v128) (local $x v128) (local $end i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local.set $end (i32.add (local.get $pa) (i32.shl (local.get $kc) (i32.const 4))))
    (loop $k
      (local.set $b0 (v128.load (local.get $pb)))
      (local.set $b1 (v128.load offset=16 (local.get $pb)))
      (local.set $x (v128.load32_splat (local.get $pa)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=4 (local.get $pa)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=8 (local.get $pa)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=12 (local.get $pa)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
      (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
      (br_if $k (i32.lt_u (local.get $pa) (local.get $end))))
    ;; C -= A B: the sums negated (exactly) before they are added.
    (if (local.get $sub)
      (then
        (local.set $c00 (f32x4.neg (local.get $c00)))
        (local.set $c01 (f32x4.neg (local.get $c01)))
        (local.set $c10 (f32x4.neg (local.get $c10)))
        (local.set $c11 (f32x4.neg (local.get $c11)))
        (local.set $c20 (f32x4.neg (local.get $c20)))
        (local.set $c21 (f32x4.neg (local.get $c21)))
        (local.set $c30 (f32x4.neg (local.get $c30)))
        (local.set $c31 (f32x4.neg (local.get $c31)))))
    (if (i32.and (i32.eq (local.get $h) (i32.const 4)) (i32.eq (local.get $w) (i32.const 8)))
      (then
        (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c00)))
        (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c01)))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c10)))
        (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c11)))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c20)))
        (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c21)))
        (local.set $c (i32.add (local.get $c) (local.get $ldc)))
        (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $c30)))
        (v128.store offset=16 (local.get $c) (f32x4.add (v128.load offset=16 (local.get $c)) (local.get $c31))))
      (else
        (v128.store (local.get $s) (local.get $c00))
        (v128.store offset=16 (local.get $s) (local.get $c01))
        (v128.store offset=32 (local.get $s) (local.get $c10))
        (v128.store offset=48 (local.get $s) (local.get $c11))
        (v128.store offset=64 (local.get $s) (local.get $c20))
        (v128.store offset=80 (local.get $s) (local.get $c21))
        (v128.store offset=96 (local.get $s) (local.get $c30))
        (v128.store offset=112 (local.get $s) (local.get $c31))
        (call $add_edge_f32 (local.get $s) (local.get $c) (local.get $ldc) (local.get $h) (local.get $w)))))

  ;; Packs B[k, n] (f64; b: byte address of B[0, 0], strides in elements) at dst for gemm_f64: for
  ;; each block of KC = 256 rows, its NR = 4-column panels (kc rows of 4 values, zeros past n), the
  ;; blocks one after another. Takes k * ceil(n / 4) * 4 values.
  (func (export "pack_b_f64") (param $b i32) (param $sbk i32) (param $sbn i32) (param $k i32) (param $n i32) (param $dst i32)
    (local $pc i32) (local $kc i32) (local $jr i32)
    (local.set $sbk (i32.shl (local.get $sbk) (i32.const 3)))
    (local.set $sbn (i32.shl (local.get $sbn) (i32.const 3)))
    (loop $pcs
      (local.set $kc (select (i32.sub (local.get $k) (local.get $pc)) (i32.const 256)
        (i32.lt_u (i32.sub (local.get $k) (local.get $pc)) (i32.const 256))))
      (local.set $jr (i32.const 0))
      (loop $panels
        (call $pack_f64
          (i32.add (local.get $b) (i32.add (i32.mul (local.get $pc) (local.get $sbk)) (i32.mul (local.get $jr) (local.get $sbn))))
          (local.get $sbn) (local.get $sbk) (local.get $dst)
          (select (i32.sub (local.get $n) (local.get $jr)) (i32.const 4) (i32.lt_u (i32.sub (local.get $n) (local.get $jr)) (i32.const 4)))
          (i32.const 4) (local.get $kc))
        (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $kc) (i32.const 32))))
        (local.set $jr (i32.add (local.get $jr) (i32.const 4)))
        (br_if $panels (i32.lt_u (local.get $jr) (local.get $n))))
      (local.set $pc (i32.add (local.get $pc) (i32.const 256)))
      (br_if $pcs (i32.lt_u (local.get $pc) (local.get $k)))))

  ;; C[m, n] += A[m, k] B[k, n] (or -=, when sub is non-zero) in f64, with B packed by pack_b_f64
  ;; at pb. a, c: byte addresses of A[0, 0] and C[0, 0] (C row-major with rows ldc elements apart:
  ;; a block of a larger matrix); A's strides in elements; pa: 128 bytes of scratch, then room for
  ;; MC x KC = 128 x 256 packed values. Requires m, n, k >= 1.
  (func (export "gemm_f64")
    (param $a i32) (param $sam i32) (param $sak i32) (param $pb i32)
    (param $c i32) (param $ldc i32) (param $m i32) (param $k i32) (param $n i32) (param $pa i32) (param $sub i32)
    (local $pc i32) (local $kc i32) (local $ic i32) (local $mc i32) (local $jr i32) (local $ir i32)
    (local $s i32) (local $bblock i32) (local $nr i32)
    (local.set $s (local.get $pa))
    (local.set $pa (i32.add (local.get $pa) (i32.const 128)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 3)))
    (local.set $sam (i32.shl (local.get $sam) (i32.const 3)))
    (local.set $sak (i32.shl (local.get $sak) (i32.const 3)))
    ;; n rounded up to whole panels: a block of kc rows of packed B holds kc * nr values
    (local.set $nr (i32.and (i32.add (local.get $n) (i32.const 3)) (i32.const -4)))
    (loop $pcs ;; KC = 256 terms of the sum
      (local.set $kc (select (i32.sub (local.get $k) (local.get $pc)) (i32.const 256)
        (i32.lt_u (i32.sub (local.get $k) (local.get $pc)) (i32.const 256))))
      (local.set $bblock (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $pc) (local.get $nr)) (i32.const 3))))
      (local.set $ic (i32.const 0))
      (loop $ics ;; MC = 128 rows of A and C
        (local.set $mc (select (i32.sub (local.get $m) (local.get $ic)) (i32.const 128)
          (i32.lt_u (i32.sub (local.get $m) (local.get $ic)) (i32.const 128))))
        (local.set $ir (i32.const 0))
        (loop $packa
          (call $pack_f64
            (i32.add (local.get $a) (i32.add (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $sam)) (i32.mul (local.get $pc) (local.get $sak))))
            (local.get $sam) (local.get $sak)
            (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $ir) (local.get $kc)) (i32.const 3)))
            (select (i32.sub (local.get $mc) (local.get $ir)) (i32.const 4) (i32.lt_u (i32.sub (local.get $mc) (local.get $ir)) (i32.const 4)))
            (i32.const 4) (local.get $kc))
          (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
          (br_if $packa (i32.lt_u (local.get $ir) (local.get $mc))))
        (local.set $jr (i32.const 0))
        (loop $jrs
          (local.set $ir (i32.const 0))
          (loop $irs
            (call $tile_f64 (local.get $s) (local.get $kc)
              (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $ir) (local.get $kc)) (i32.const 3)))
              (i32.add (local.get $bblock) (i32.shl (i32.mul (local.get $jr) (local.get $kc)) (i32.const 3)))
              (i32.add (local.get $c) (i32.add
                (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $ldc))
                (i32.shl (local.get $jr) (i32.const 3))))
              (local.get $ldc)
              (select (i32.sub (local.get $mc) (local.get $ir)) (i32.const 4) (i32.lt_u (i32.sub (local.get $mc) (local.get $ir)) (i32.const 4)))
              (select (i32.sub (local.get $n) (local.get $jr)) (i32.const 4) (i32.lt_u (i32.sub (local.get $n) (local.get $jr)) (i32.const 4)))
              (local.get $sub))
            (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
            (br_if $irs (i32.lt_u (local.get $ir) (local.get $mc))))
          (local.set $jr (i32.add (local.get $jr) (i32.const 4)))
          (br_if $jrs (i32.lt_u (local.get $jr) (local.get $n))))
        (local.set $ic (i32.add (local.get $ic) (i32.const 128)))
        (br_if $ics (i32.lt_u (local.get $ic) (local.get $m))))
      (local.set $pc (i32.add (local.get $pc) (i32.const 256)))
      (br_if $pcs (i32.lt_u (local.get $pc) (local.get $k)))))

  ;; Packs B[k, n] (f32; b: byte address of B[0, 0], strides in elements) at dst for gemm_f32: for
  ;; each block of KC = 256 rows, its NR = 8-column panels (kc rows of 8 values, zeros past n), the
  ;; blocks one after another. Takes k * ceil(n / 8) * 8 values.
  (func (export "pack_b_f32") (param $b i32) (param $sbk i32) (param $sbn i32) (param $k i32) (param $n i32) (param $dst i32)
    (local $pc i32) (local $kc i32) (local $jr i32)
    (local.set $sbk (i32.shl (local.get $sbk) (i32.const 2)))
    (local.set $sbn (i32.shl (local.get $sbn) (i32.const 2)))
    (loop $pcs
      (local.set $kc (select (i32.sub (local.get $k) (local.get $pc)) (i32.const 256)
        (i32.lt_u (i32.sub (local.get $k) (local.get $pc)) (i32.const 256))))
      (local.set $jr (i32.const 0))
      (loop $panels
        (call $pack_f32
          (i32.add (local.get $b) (i32.add (i32.mul (local.get $pc) (local.get $sbk)) (i32.mul (local.get $jr) (local.get $sbn))))
          (local.get $sbn) (local.get $sbk) (local.get $dst)
          (select (i32.sub (local.get $n) (local.get $jr)) (i32.const 8) (i32.lt_u (i32.sub (local.get $n) (local.get $jr)) (i32.const 8)))
          (i32.const 8) (local.get $kc))
        (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $kc) (i32.const 32))))
        (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
        (br_if $panels (i32.lt_u (local.get $jr) (local.get $n))))
      (local.set $pc (i32.add (local.get $pc) (i32.const 256)))
      (br_if $pcs (i32.lt_u (local.get $pc) (local.get $k)))))

  ;; C[m, n] += A[m, k] B[k, n] (or -=, when sub is non-zero) in f32, with B packed by pack_b_f32
  ;; at pb; the addressing as gemm_f64's.
  (func (export "gemm_f32")
    (param $a i32) (param $sam i32) (param $sak i32) (param $pb i32)
    (param $c i32) (param $ldc i32) (param $m i32) (param $k i32) (param $n i32) (param $pa i32) (param $sub i32)
    (local $pc i32) (local $kc i32) (local $ic i32) (local $mc i32) (local $jr i32) (local $ir i32)
    (local $s i32) (local $bblock i32) (local $nr i32)
    (local.set $s (local.get $pa))
    (local.set $pa (i32.add (local.get $pa) (i32.const 128)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $sam (i32.shl (local.get $sam) (i32.const 2)))
    (local.set $sak (i32.shl (local.get $sak) (i32.const 2)))
    ;; n rounded up to whole panels: a block of kc rows of packed B holds kc * nr values
    (local.set $nr (i32.and (i32.add (local.get $n) (i32.const 7)) (i32.const -8)))
    (loop $pcs ;; KC = 256 terms of the sum
      (local.set $kc (select (i32.sub (local.get $k) (local.get $pc)) (i32.const 256)
        (i32.lt_u (i32.sub (local.get $k) (local.get $pc)) (i32.const 256))))
      (local.set $bblock (i32.add (local.get $pb) (i32.shl (i32.mul (local.get $pc) (local.get $nr)) (i32.const 2))))
      (local.set $ic (i32.const 0))
      (loop $ics ;; MC = 128 rows of A and C
        (local.set $mc (select (i32.sub (local.get $m) (local.get $ic)) (i32.const 128)
          (i32.lt_u (i32.sub (local.get $m) (local.get $ic)) (i32.const 128))))
        (local.set $ir (i32.const 0))
        (loop $packa
          (call $pack_f32
            (i32.add (local.get $a) (i32.add (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $sam)) (i32.mul (local.get $pc) (local.get $sak))))
            (local.get $sam) (local.get $sak)
            (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $ir) (local.get $kc)) (i32.const 2)))
            (select (i32.sub (local.get $mc) (local.get $ir)) (i32.const 4) (i32.lt_u (i32.sub (local.get $mc) (local.get $ir)) (i32.const 4)))
            (i32.const 4) (local.get $kc))
          (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
          (br_if $packa (i32.lt_u (local.get $ir) (local.get $mc))))
        (local.set $jr (i32.const 0))
        (loop $jrs
          (local.set $ir (i32.const 0))
          (loop $irs
            (call $tile_f32 (local.get $s) (local.get $kc)
              (i32.add (local.get $pa) (i32.shl (i32.mul (local.get $ir) (local.get $kc)) (i32.const 2)))
              (i32.add (local.get $bblock) (i32.shl (i32.mul (local.get $jr) (local.get $kc)) (i32.const 2)))
              (i32.add (local.get $c) (i32.add
                (i32.mul (i32.add (local.get $ic) (local.get $ir)) (local.get $ldc))
                (i32.shl (local.get $jr) (i32.const 2))))
              (local.get $ldc)
              (select (i32.sub (local.get $mc) (local.get $ir)) (i32.const 4) (i32.lt_u (i32.sub (local.get $mc) (local.get $ir)) (i32.const 4)))
              (select (i32.sub (local.get $n) (local.get $jr)) (i32.const 8) (i32.lt_u (i32.sub (local.get $n) (local.get $jr)) (i32.const 8)))
              (local.get $sub))
            (local.set $ir (i32.add (local.get $ir) (i32.const 4)))
            (br_if $irs (i32.lt_u (local.get $ir) (local.get $mc))))
          (local.set $jr (i32.add (local.get $jr) (i32.const 8)))
          (br_if $jrs (i32.lt_u (local.get $jr) (local.get $n))))
        (local.set $ic (i32.add (local.get $ic) (i32.const 128)))
        (br_if $ics (i32.lt_u (local.get $ic) (local.get $m))))
      (local.set $pc (i32.add (local.get $pc) (i32.const 256)))
      (br_if $pcs (i32.lt_u (local.get $pc) (local.get $k)))))
)
