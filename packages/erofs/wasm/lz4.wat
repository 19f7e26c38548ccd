;; LZ4 block decoder in WebAssembly: the same semantics as src/decompress/lz4.ts (the JavaScript
;; decoder, which stays the fallback and the source of error messages). Raw blocks only
;; (docs/format.md#compressed-streams, algorithm 0), as z_erofs_lz4_decompress_mem() decodes
;; them with LZ4_decompress_safe() (whole) or LZ4_decompress_safe_partial() (partial).
;;
;; The caller (src/decompress/lz4-wasm.ts) copies the stream to `src` and reads `outLen` bytes
;; back from `dst`. Both regions are followed by WASM_SLACK (64) bytes the decoder may touch:
;; copies of up to 32 bytes are two or four 8-byte moves and may read up to 31 bytes past the end
;; of a literal run and write up to 31 bytes past the end of a copy. Those writes land in bytes
;; later output overwrites, or in the slack; the result is only ever the first `outLen` bytes of
;; `dst`.
;; Every length is checked against the region it reads or writes before any copy, so a hostile
;; stream cannot reach outside [src, src + srcLen + slack) or [dst, dst + outLen + slack).
;;
;; Build: node packages/erofs/scripts/build-wasm.mjs (wabt); test/lz4-wasm.test.ts
;; checks the committed bytes are what this source assembles to.
(module
  ;; 14 MiB: one 1 MiB pcluster plus one 12 MiB extent and their slack
  ;; (LZ4_WASM_MAX_MEMORY in src/decompress/lz4-wasm.ts; docs/format.md#compressed-streams).
  ;; All of it from the start, never grown: growing detaches the memory's ArrayBuffer, and the
  ;; first detach in a thread throws away the optimized code of every function that reads
  ;; typed arrays (V8's ArrayBufferDetaching protector), which the thread then compiles again.
  ;; Pages never touched cost no memory.
  (memory (export "memory") 224 224)

  ;; Returns outLen when the block decodes, else the negative error code:
  ;; -1 truncated literal length, -2 literal run past end of input, -3 literal run overflows the
  ;; output, -4 truncated match offset, -5 match offset outside the decoded bytes, -6 match offset
  ;; beyond the maxDist window, -7 truncated match length, -8 match overflows the output, -9 the
  ;; block decoded to a size other than outLen.
  (func (export "decode")
    (param $src i32) (param $srcLen i32) (param $dst i32) (param $outLen i32)
    (param $partial i32) (param $maxDist i32)
    (result i32)
    (local $ip i32) (local $ipEnd i32) (local $op i32) (local $opEnd i32)
    (local $token i32) (local $len i32) (local $b i32) (local $off i32)
    (local $from i32) (local $end i32) (local $n i32)
    (local.set $ip (local.get $src))
    (local.set $ipEnd (i32.add (local.get $src) (local.get $srcLen)))
    (local.set $op (local.get $dst))
    (local.set $opEnd (i32.add (local.get $dst) (local.get $outLen)))
    (block $done
      ;; every sequence consumes at least one input byte: bounded by srcLen
      (loop $sequence
        (br_if $done (i32.ge_u (local.get $ip) (local.get $ipEnd)))
        (local.set $token (i32.load8_u (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 1)))

        ;; literals
        (local.set $len (i32.shr_u (local.get $token) (i32.const 4)))
        (if (i32.eq (local.get $len) (i32.const 15))
          (then
            (loop $more
              (if (i32.ge_u (local.get $ip) (local.get $ipEnd)) (then (return (i32.const -1))))
              (local.set $b (i32.load8_u (local.get $ip)))
              (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
              (local.set $len (i32.add (local.get $len) (local.get $b)))
              ;; 255-bytes can only sum past 2^31 over 8 MiB of input: the region is at most 1 MiB
              (br_if $more (i32.eq (local.get $b) (i32.const 255))))))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $ipEnd) (local.get $ip)))
          (then (return (i32.const -2))))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $opEnd) (local.get $op)))
          (then
            (if (i32.eqz (local.get $partial)) (then (return (i32.const -3))))
            (memory.copy (local.get $op) (local.get $ip) (i32.sub (local.get $opEnd) (local.get $op)))
            (return (local.get $outLen))))
        (if (i32.le_u (local.get $len) (i32.const 16))
          (then
            ;; a short run: two or four 8-byte copies, overshooting into later output or the
            ;; slack (unrolled: a copy loop's exit branch, taken after a varying count each
            ;; sequence, cost more than the extra copies; docs/benchmarks.md, `lz4-decode`)
            (i64.store align=1 (local.get $op) (i64.load align=1 (local.get $ip)))
            (i64.store offset=8 align=1 (local.get $op) (i64.load offset=8 align=1 (local.get $ip)))
            (local.set $op (i32.add (local.get $op) (local.get $len)))
            (local.set $ip (i32.add (local.get $ip) (local.get $len))))
        (else (if (i32.le_u (local.get $len) (i32.const 32))
          (then
            (i64.store align=1 (local.get $op) (i64.load align=1 (local.get $ip)))
            (i64.store offset=8 align=1 (local.get $op) (i64.load offset=8 align=1 (local.get $ip)))
            (i64.store offset=16 align=1 (local.get $op) (i64.load offset=16 align=1 (local.get $ip)))
            (i64.store offset=24 align=1 (local.get $op) (i64.load offset=24 align=1 (local.get $ip)))
            (local.set $op (i32.add (local.get $op) (local.get $len)))
            (local.set $ip (i32.add (local.get $ip) (local.get $len))))
          (else
            (memory.copy (local.get $op) (local.get $ip) (local.get $len))
            (local.set $op (i32.add (local.get $op) (local.get $len)))
            (local.set $ip (i32.add (local.get $ip) (local.get $len)))))))
        ;; the last sequence has literals only
        (br_if $done (i32.eq (local.get $ip) (local.get $ipEnd)))
        (if (i32.and (local.get $partial) (i32.eq (local.get $op) (local.get $opEnd)))
          (then (return (local.get $outLen))))

        ;; match
        (if (i32.lt_u (i32.sub (local.get $ipEnd) (local.get $ip)) (i32.const 2))
          (then (return (i32.const -4))))
        (local.set $off (i32.load16_u align=1 (local.get $ip)))
        (local.set $ip (i32.add (local.get $ip) (i32.const 2)))
        (if (i32.or (i32.eqz (local.get $off))
                    (i32.gt_u (local.get $off) (i32.sub (local.get $op) (local.get $dst))))
          (then (return (i32.const -5))))
        (if (i32.gt_u (local.get $off) (local.get $maxDist)) (then (return (i32.const -6))))
        (local.set $len (i32.and (local.get $token) (i32.const 15)))
        (if (i32.eq (local.get $len) (i32.const 15))
          (then
            (loop $more
              (if (i32.ge_u (local.get $ip) (local.get $ipEnd)) (then (return (i32.const -7))))
              (local.set $b (i32.load8_u (local.get $ip)))
              (local.set $ip (i32.add (local.get $ip) (i32.const 1)))
              (local.set $len (i32.add (local.get $len) (local.get $b)))
              (br_if $more (i32.eq (local.get $b) (i32.const 255))))))
        (local.set $len (i32.add (local.get $len) (i32.const 4)))
        (if (i32.gt_u (local.get $len) (i32.sub (local.get $opEnd) (local.get $op)))
          (then
            (if (i32.eqz (local.get $partial)) (then (return (i32.const -8))))
            (local.set $len (i32.sub (local.get $opEnd) (local.get $op)))))
        (local.set $from (i32.sub (local.get $op) (local.get $off)))
        (local.set $end (i32.add (local.get $op) (local.get $len)))
        (if (i32.and (i32.ge_u (local.get $off) (i32.const 8))
                     (i32.le_u (local.get $len) (i32.const 16)))
          (then
            ;; short match at least 8 back: each 8-byte read ends at or before the write, so an
            ;; overlapping match repeats its period as a byte-by-byte copy would; two or four
            ;; copies, unrolled as for literals
            (i64.store align=1 (local.get $op) (i64.load align=1 (local.get $from)))
            (i64.store offset=8 align=1 (local.get $op) (i64.load offset=8 align=1 (local.get $from)))
            (local.set $op (local.get $end)))
        (else (if (i32.and (i32.ge_u (local.get $off) (i32.const 8))
                     (i32.le_u (local.get $len) (i32.const 32)))
          (then
            (i64.store align=1 (local.get $op) (i64.load align=1 (local.get $from)))
            (i64.store offset=8 align=1 (local.get $op) (i64.load offset=8 align=1 (local.get $from)))
            (i64.store offset=16 align=1 (local.get $op) (i64.load offset=16 align=1 (local.get $from)))
            (i64.store offset=24 align=1 (local.get $op) (i64.load offset=24 align=1 (local.get $from)))
            (local.set $op (local.get $end)))
          (else
            (if (i32.ge_u (local.get $off) (local.get $len))
              (then
                ;; long match that does not overlap its source: one copy
                (memory.copy (local.get $op) (local.get $from) (local.get $len))
                (local.set $op (local.get $end)))
              (else
                (if (i32.lt_u (local.get $len) (i32.const 32))
                  (then
                    ;; short match of a period under 8 bytes: byte by byte
                    (loop $copy1
                      (i32.store8 (local.get $op) (i32.load8_u (local.get $from)))
                      (local.set $op (i32.add (local.get $op) (i32.const 1)))
                      (local.set $from (i32.add (local.get $from) (i32.const 1)))
                      (br_if $copy1 (i32.lt_u (local.get $op) (local.get $end)))))
                  (else
                    ;; long run: copy the bytes already repeated (op - from, a multiple of the
                    ;; period), doubling each time, never reading at or past op
                    (loop $double
                      (local.set $n (i32.sub (local.get $op) (local.get $from)))
                      (if (i32.gt_u (local.get $n) (i32.sub (local.get $end) (local.get $op)))
                        (then (local.set $n (i32.sub (local.get $end) (local.get $op)))))
                      (memory.copy (local.get $op) (local.get $from) (local.get $n))
                      (local.set $op (i32.add (local.get $op) (local.get $n)))
                      (br_if $double (i32.lt_u (local.get $op) (local.get $end))))))))))))
        (if (i32.and (local.get $partial) (i32.eq (local.get $op) (local.get $opEnd)))
          (then (return (local.get $outLen))))
        (br $sequence)))
    (if (i32.ne (local.get $op) (local.get $opEnd)) (then (return (i32.const -9))))
    (local.get $outLen)))
