;; The NDJSON fast path's line scan in WebAssembly: the canonical record lines of a window of an
;; NDJSON manifest validated exactly as fastRecordLine() (src/manifest-fast-line.ts) validates
;; them, one call for up to MAX_LINES lines, each line's numbers, enumerations and string spans
;; written to a record the caller (src/manifest-line-wasm.ts) reads. A line this scan refuses is
;; marked so and left to the JavaScript readers (fastRecordLine, then the general parser), which
;; decide it and give its error: this scan accepts a line only when fastRecordLine would, with
;; the same values (test/manifest-line-wasm.test.ts compares them on random and hostile lines).
;;
;; Unlike fastRecordLine, the scan is not given a line's end: it reads from a line's start as far
;; as the grammar takes it, bounded by the window's length, and the line is accepted only when a
;; "\n" (or the window's end) follows its closing "}". A "\n" can occur in no literal, path, number
;; or hex string the grammar takes, so a line accepted this way is exactly a line accepted with
;; its end given. A refused line's end is found by a byte scan.
;;
;; The caller writes the window's bytes at IN (0) and a "\n" at IN + len, and, once, the literals
;; (the keys and the enumeration values, the very byte arrays fastRecordLine compares) at LIT,
;; 32 bytes each, zero-padded, their lengths at LENS. The paths' bytes are not hashed: the scan
;; is used where paths stay bytes (docs/benchmarks.md#analyze-paths-paths-as-bytes-2026-12-07).
;;
;; Build: node packages/erofs/scripts/build-wasm.mjs (wabt); test/manifest-line-wasm.test.ts
;; checks the committed bytes are what this source assembles to.
(module
  ;; 130 pages, all from the start, never grown (growing detaches the ArrayBuffer the caller's
  ;; views read: see lz4.wat). IN: 4 MiB window + slack; LIT/LENS: 1 KiB each; OUT: MAX_LINES
  ;; records of 128 bytes.
  (memory (export "memory") 130 130)

  (global $LIT i32 (i32.const 4194560))   ;; 4 MiB + 256
  (global $LENS i32 (i32.const 4195584))  ;; LIT + 1024
  (global $OUT i32 (i32.const 4259840))   ;; 4 MiB + 64 KiB
  (global $MAX_LINES i32 (i32.const 32768))

  ;; literal numbers (src/manifest-line-wasm.ts writes them in this order)
  ;; 0 {"path":"  1 ","nid":  2 ,"type":"  3 ","mode":"  4 ","uid":  5 ,"gid":  6 ,"size":
  ;; 7 ,"nlink":  8 ,"mtime":  9 ,"mtime_nsec":  10 ,"layout":"  11 ","inode_size":
  ;; 12 ,"xattr_isize":  13 ,"xattrs":{},"fingerprint":  14 null  15 ,"sha256":"
  ;; 16.. the file types (FILE_TYPE_CODES, 7), 23.. the layouts (LAYOUT_CODES, $nLayouts)

  ;; what int() read, which enumeration value's closing quote enumIndex() found, hexEnd()'s hash
  (global $num (mut f64) (f64.const 0))
  (global $enumEnd (mut i32) (i32.const 0))
  (global $hash (mut i32) (i32.const 0))
  (global $seed (mut i32) (i32.const 0))

  ;; Position after literal k when the bytes at p are it (within end), else -1. Compared 8 bytes
  ;; at a time; the last word masked to the literal's length (reads past end land in the window's
  ;; slack or the next line and are masked off).
  (func $lit (param $p i32) (param $end i32) (param $k i32) (result i32)
    (local $a i32) (local $n i32) (local $i i32) (local $rem i64)
    (local.set $a (i32.add (global.get $LIT) (i32.shl (local.get $k) (i32.const 5))))
    (local.set $n (i32.load (i32.add (global.get $LENS) (i32.shl (local.get $k) (i32.const 2)))))
    (if (i32.gt_u (i32.add (local.get $p) (local.get $n)) (local.get $end))
      (then (return (i32.const -1))))
    (block $done
      (loop $words
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $n)))
        (if (i64.ne (i64.load (i32.add (local.get $p) (local.get $i)))
                    (i64.load (i32.add (local.get $a) (local.get $i))))
          (then (return (i32.const -1))))
        (local.set $i (i32.add (local.get $i) (i32.const 8)))
        (br $words)))
    (if (i32.lt_u (local.get $i) (local.get $n))
      (then
        (local.set $rem
          (i64.sub
            (i64.shl (i64.const 1)
              (i64.extend_i32_u (i32.shl (i32.sub (local.get $n) (local.get $i)) (i32.const 3))))
            (i64.const 1)))
        (if (i64.ne (i64.and (i64.load (i32.add (local.get $p) (local.get $i))) (local.get $rem))
                    (i64.load (i32.add (local.get $a) (local.get $i))))
          (then (return (i32.const -1))))))
    (i32.add (local.get $p) (local.get $n)))

  ;; fastRecordLine's int(): a canonical JSON integer of at most 15 digits at p (a '-' only when
  ;; $signed), its value in $num; its end, or -1.
  (func $int (param $p i32) (param $end i32) (param $signed i32) (result i32)
    (local $neg i32) (local $first i32) (local $v f64) (local $d i32) (local $n i32) (local $next i32)
    (if (i32.and (local.get $signed) (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x2d)))
      (then
        (local.set $neg (i32.const 1))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))))
    (local.set $first (local.get $p))
    (block $done
      (loop $digits
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $d (i32.sub (i32.load8_u (local.get $p)) (i32.const 0x30)))
        (br_if $done (i32.gt_u (local.get $d) (i32.const 9)))
        (local.set $v (f64.add (f64.mul (local.get $v) (f64.const 10)) (f64.convert_i32_u (local.get $d))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $digits)))
    (local.set $n (i32.sub (local.get $p) (local.get $first)))
    (if (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 15)))
      (then (return (i32.const -1))))
    ;; "01" is not JSON; "-0" is left to the general parser
    (if (i32.and (i32.eq (i32.load8_u (local.get $first)) (i32.const 0x30))
                 (i32.or (i32.gt_u (local.get $n) (i32.const 1)) (local.get $neg)))
      (then (return (i32.const -1))))
    (local.set $next (i32.load8_u (local.get $p)))
    (if (i32.or (i32.eq (local.get $next) (i32.const 0x2e))
          (i32.or (i32.eq (local.get $next) (i32.const 0x65)) (i32.eq (local.get $next) (i32.const 0x45))))
      (then (return (i32.const -1))))
    (global.set $num (select (f64.neg (local.get $v)) (local.get $v) (local.get $neg)))
    (local.get $p))

  ;; fastRecordLine's enumIndex(): the index among literals k0 .. k0 + count - 1 of the value up to
  ;; the first quote at or after p (before end), its closing quote in $enumEnd; else -1.
  (func $enumIndex (param $p i32) (param $end i32) (param $k0 i32) (param $count i32) (result i32)
    (local $close i32) (local $n i32) (local $k i32) (local $a i32) (local $i i32)
    (local.set $close (local.get $p))
    (block $found
      (loop $scan
        (if (i32.ge_u (local.get $close) (local.get $end)) (then (return (i32.const -1))))
        (br_if $found (i32.eq (i32.load8_u (local.get $close)) (i32.const 0x22)))
        (local.set $close (i32.add (local.get $close) (i32.const 1)))
        (br $scan)))
    (local.set $n (i32.sub (local.get $close) (local.get $p)))
    (block $none
      (loop $candidates
        (br_if $none (i32.ge_u (local.get $k) (local.get $count)))
        (block $next
          (br_if $next
            (i32.ne (local.get $n)
              (i32.load (i32.add (global.get $LENS)
                (i32.shl (i32.add (local.get $k0) (local.get $k)) (i32.const 2))))))
          (local.set $a (i32.add (global.get $LIT)
            (i32.shl (i32.add (local.get $k0) (local.get $k)) (i32.const 5))))
          (local.set $i (i32.const 0))
          (block $equal
            (loop $bytes
              (br_if $equal (i32.ge_u (local.get $i) (local.get $n)))
              (br_if $next (i32.ne (i32.load8_u (i32.add (local.get $p) (local.get $i)))
                                   (i32.load8_u (i32.add (local.get $a) (local.get $i)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $bytes)))
          (global.set $enumEnd (local.get $close))
          (return (local.get $k)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $candidates)))
    (i32.const -1))

  ;; validManifestPath's component rule: not empty, at most 255 bytes, not "." or "..".
  (func $componentOk (param $start i32) (param $end i32) (result i32)
    (local $n i32)
    (local.set $n (i32.sub (local.get $end) (local.get $start)))
    (if (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 255)))
      (then (return (i32.const 0))))
    (if (i32.and (i32.le_u (local.get $n) (i32.const 2))
                 (i32.eq (i32.load8_u (local.get $start)) (i32.const 0x2e)))
      (then
        (if (i32.or (i32.eq (local.get $n) (i32.const 1))
                    (i32.eq (i32.load8_u (i32.add (local.get $start) (i32.const 1))) (i32.const 0x2e)))
          (then (return (i32.const 0))))))
    (i32.const 1))

  ;; fastRecordLine's pathEnd() without the hash: the closing quote of a path at p, or -1.
  (func $pathEnd (param $p i32) (param $end i32) (result i32)
    (local $start i32) (local $i i32) (local $c i32)
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x2f)) (then (return (i32.const -1))))
    (local.set $start (i32.add (local.get $p) (i32.const 1)))
    (local.set $i (local.get $start))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $i)))
        (br_if $done (i32.eq (local.get $c) (i32.const 0x22)))
        ;; printable ASCII (0x20 .. 0x7e) but "\"
        (if (i32.or (i32.gt_u (i32.sub (local.get $c) (i32.const 0x20)) (i32.const 0x5e))
                    (i32.eq (local.get $c) (i32.const 0x5c)))
          (then (return (i32.const -1))))
        (if (i32.eq (local.get $c) (i32.const 0x2f))
          (then
            (if (i32.eqz (call $componentOk (local.get $start) (local.get $i)))
              (then (return (i32.const -1))))
            (local.set $start (i32.add (local.get $i) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $bytes)))
    (if (i32.or (i32.ge_u (local.get $i) (local.get $end))
                (i32.gt_u (i32.sub (local.get $i) (local.get $p)) (i32.const 4096)))
      (then (return (i32.const -1))))
    (if (i32.gt_u (i32.sub (local.get $i) (local.get $p)) (i32.const 1))
      (then
        (if (i32.eqz (call $componentOk (local.get $start) (local.get $i)))
          (then (return (i32.const -1))))))
    (local.get $i))

  ;; fastRecordLine's hexEnd(): the closing quote of lower-case hex of even length <= max at p,
  ;; its hashString() state (from $seed) in $hash; else -1.
  (func $hexEnd (param $p i32) (param $end i32) (param $max i32) (result i32)
    (local $i i32) (local $c i32) (local $h i32)
    (local.set $h (global.get $seed))
    (local.set $i (local.get $p))
    (block $done
      (loop $bytes
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $i)))
        (br_if $done
          (i32.and (i32.gt_u (i32.sub (local.get $c) (i32.const 0x30)) (i32.const 9))
                   (i32.gt_u (i32.sub (local.get $c) (i32.const 0x61)) (i32.const 5))))
        (local.set $h (i32.mul (i32.xor (local.get $h) (local.get $c)) (i32.const 0x01000193)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $bytes)))
    (if (i32.or
          (i32.or (i32.ge_u (local.get $i) (local.get $end))
                  (i32.ne (i32.load8_u (local.get $i)) (i32.const 0x22)))
          (i32.or (i32.and (i32.sub (local.get $i) (local.get $p)) (i32.const 1))
                  (i32.gt_u (i32.sub (local.get $i) (local.get $p)) (local.get $max))))
      (then (return (i32.const -1))))
    (global.set $hash (local.get $h))
    (local.get $i))

  ;; One record line at s (the window is [0, len), a "\n" at len): writes the record at $r and
  ;; returns the position after the line's closing "}" when fastRecordLine would take the line,
  ;; else -1 (nothing written but what the caller overwrites).
  (func $line (param $s i32) (param $len i32) (param $hashed i32) (param $nLayouts i32) (param $r i32)
    (result i32)
    (local $p i32) (local $pathClose i32) (local $type i32) (local $mode i32) (local $d i32)
    (local $i i32) (local $layout i32) (local $x f64) (local $xi i32) (local $fpStart i32)
    (local $fpClose i32) (local $shaStart i32)
    (local.set $p (call $lit (local.get $s) (local.get $len) (i32.const 0)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (i32.store offset=28 (local.get $r) (local.get $p))
    (local.set $pathClose (call $pathEnd (local.get $p) (local.get $len)))
    (if (i32.lt_s (local.get $pathClose) (i32.const 0)) (then (return (i32.const -1))))
    (i32.store offset=32 (local.get $r) (local.get $pathClose))
    ;; nid
    (local.set $p (call $lit (local.get $pathClose) (local.get $len) (i32.const 1)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $p (call $int (local.get $p) (local.get $len) (i32.const 0)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (f64.store offset=64 (local.get $r) (global.get $num))
    ;; type: symlinks (target) and devices (rdev) are left to the general parser
    (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 2)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $type (call $enumIndex (local.get $p) (local.get $len) (i32.const 16) (i32.const 7)))
    (if (i32.or (i32.lt_s (local.get $type) (i32.const 0))
                (i32.lt_u (i32.sub (local.get $type) (i32.const 2)) (i32.const 3)))
      (then (return (i32.const -1))))
    (i32.store offset=8 (local.get $r) (local.get $type))
    ;; mode: four octal digits and a quote
    (local.set $p (call $lit (global.get $enumEnd) (local.get $len) (i32.const 3)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.or (i32.gt_u (i32.add (local.get $p) (i32.const 5)) (local.get $len))
                (i32.ne (i32.load8_u offset=4 (local.get $p)) (i32.const 0x22)))
      (then (return (i32.const -1))))
    (local.set $i (i32.const 0))
    (block $octal
      (loop $digits
        (br_if $octal (i32.ge_u (local.get $i) (i32.const 4)))
        (local.set $d (i32.sub (i32.load8_u (i32.add (local.get $p) (local.get $i))) (i32.const 0x30)))
        (if (i32.gt_u (local.get $d) (i32.const 7)) (then (return (i32.const -1))))
        (local.set $mode (i32.or (i32.shl (local.get $mode) (i32.const 3)) (local.get $d)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $digits)))
    (i32.store offset=16 (local.get $r) (local.get $mode))
    (local.set $p (i32.add (local.get $p) (i32.const 4)))
    ;; uid, gid (<= 2^32 - 1)
    (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 4)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $p (call $int (local.get $p) (local.get $len) (i32.const 0)))
    (if (i32.or (i32.lt_s (local.get $p) (i32.const 0)) (f64.gt (global.get $num) (f64.const 4294967295)))
      (then (return (i32.const -1))))
    (f64.store offset=72 (local.get $r) (global.get $num))
    (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 5)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $p (call $int (local.get $p) (local.get $len) (i32.const 0)))
    (if (i32.or (i32.lt_s (local.get $p) (i32.const 0)) (f64.gt (global.get $num) (f64.const 4294967295)))
      (then (return (i32.const -1))))
    (f64.store offset=80 (local.get $r) (global.get $num))
    ;; size
    (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 6)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $p (call $int (local.get $p) (local.get $len) (i32.const 0)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (f64.store offset=88 (local.get $r) (global.get $num))
    ;; nlink (<= 2^32 - 1)
    (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 7)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $p (call $int (local.get $p) (local.get $len) (i32.const 0)))
    (if (i32.or (i32.lt_s (local.get $p) (i32.const 0)) (f64.gt (global.get $num) (f64.const 4294967295)))
      (then (return (i32.const -1))))
    (f64.store offset=96 (local.get $r) (global.get $num))
    ;; mtime (signed)
    (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 8)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $p (call $int (local.get $p) (local.get $len) (i32.const 1)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (f64.store offset=104 (local.get $r) (global.get $num))
    ;; mtime_nsec (<= 999,999,999)
    (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 9)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $p (call $int (local.get $p) (local.get $len) (i32.const 0)))
    (if (i32.or (i32.lt_s (local.get $p) (i32.const 0)) (f64.gt (global.get $num) (f64.const 999999999)))
      (then (return (i32.const -1))))
    (f64.store offset=112 (local.get $r) (global.get $num))
    ;; layout
    (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 10)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $layout (call $enumIndex (local.get $p) (local.get $len) (i32.const 23) (local.get $nLayouts)))
    (if (i32.lt_s (local.get $layout) (i32.const 0)) (then (return (i32.const -1))))
    (i32.store offset=12 (local.get $r) (local.get $layout))
    ;; inode_size: 32 or 64
    (local.set $p (call $lit (global.get $enumEnd) (local.get $len) (i32.const 11)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $p (call $int (local.get $p) (local.get $len) (i32.const 0)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.eqz (i32.or (f64.eq (global.get $num) (f64.const 32)) (f64.eq (global.get $num) (f64.const 64))))
      (then (return (i32.const -1))))
    (i32.store offset=20 (local.get $r) (i32.trunc_f64_u (global.get $num)))
    ;; xattr_isize: 0, or 12 + 4k bytes (k <= 65534) (docs/format.md#xattrs)
    (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 12)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $p (call $int (local.get $p) (local.get $len) (i32.const 0)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $x (global.get $num))
    (if (f64.ne (local.get $x) (f64.const 0))
      (then
        (if (i32.or (f64.lt (local.get $x) (f64.const 12)) (f64.gt (local.get $x) (f64.const 262148)))
          (then (return (i32.const -1))))
        (if (i32.and (i32.sub (i32.trunc_f64_u (local.get $x)) (i32.const 12)) (i32.const 3))
          (then (return (i32.const -1))))))
    (i32.store offset=24 (local.get $r) (i32.trunc_f64_u (local.get $x)))
    ;; no listed xattrs; the fingerprint, a hex string or null
    (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 13)))
    (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $fpStart (i32.const -1))
    (local.set $fpClose (i32.const -1))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x22))
      (then
        (local.set $fpStart (i32.add (local.get $p) (i32.const 1)))
        (local.set $fpClose (call $hexEnd (local.get $fpStart) (local.get $len) (i32.const 131072)))
        (if (i32.lt_s (local.get $fpClose) (i32.const 0)) (then (return (i32.const -1))))
        (i32.store offset=48 (local.get $r) (global.get $hash))
        (local.set $p (i32.add (local.get $fpClose) (i32.const 1))))
      (else
        (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 14)))
        (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))))
    (i32.store offset=36 (local.get $r) (local.get $fpStart))
    (i32.store offset=40 (local.get $r) (local.get $fpClose))
    ;; sha256: 64 hex digits, on exactly the regular files of a hashed manifest
    (local.set $shaStart (i32.const -1))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x2c))
      (then
        (local.set $p (call $lit (local.get $p) (local.get $len) (i32.const 15)))
        (if (i32.lt_s (local.get $p) (i32.const 0)) (then (return (i32.const -1))))
        (local.set $shaStart (local.get $p))
        (if (i32.ne (call $hexEnd (local.get $p) (local.get $len) (i32.const 64))
                    (i32.add (local.get $p) (i32.const 64)))
          (then (return (i32.const -1))))
        (i32.store offset=52 (local.get $r) (global.get $hash))
        (local.set $p (i32.add (local.get $p) (i32.const 65)))))
    (if (i32.ne (i32.ge_s (local.get $shaStart) (i32.const 0))
                (i32.and (local.get $hashed) (i32.eqz (local.get $type))))
      (then (return (i32.const -1))))
    (i32.store offset=44 (local.get $r) (local.get $shaStart))
    ;; the closing brace, then the line's end
    (if (i32.or (i32.ge_u (local.get $p) (local.get $len))
                (i32.ne (i32.load8_u (local.get $p)) (i32.const 0x7d)))
      (then (return (i32.const -1))))
    (if (i32.ne (i32.load8_u offset=1 (local.get $p)) (i32.const 0x0a))
      (then (return (i32.const -1))))
    (i32.add (local.get $p) (i32.const 1)))

  ;; The lines of the window from `from` (a line's start): at most MAX_LINES, each a record at
  ;; OUT + 128 i (i32 at 0: 1 taken, 0 refused; 4: the line's end, its "\n" or len; the rest as
  ;; written by $line). Returns the number of records; the next call starts after the last one's end.
  (func (export "scan") (param $from i32) (param $len i32) (param $hashed i32) (param $seed i32)
    (param $nLayouts i32) (result i32)
    (local $s i32) (local $count i32) (local $r i32) (local $e i32)
    (global.set $seed (local.get $seed))
    (local.set $s (local.get $from))
    (block $done
      (loop $lines
        (br_if $done (i32.gt_u (local.get $s) (local.get $len)))
        (br_if $done (i32.ge_u (local.get $count) (global.get $MAX_LINES)))
        (local.set $r (i32.add (global.get $OUT) (i32.shl (local.get $count) (i32.const 7))))
        (local.set $e (call $line (local.get $s) (local.get $len) (local.get $hashed)
                        (local.get $nLayouts) (local.get $r)))
        (if (i32.ge_s (local.get $e) (i32.const 0))
          (then (i32.store (local.get $r) (i32.const 1)))
          (else
            (i32.store (local.get $r) (i32.const 0))
            ;; a refused line ends at its first "\n" (the window ends with one)
            (local.set $e (local.get $s))
            (block $nl
              (loop $find
                (br_if $nl (i32.eq (i32.load8_u (local.get $e)) (i32.const 0x0a)))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $find)))))
        (i32.store offset=4 (local.get $r) (local.get $e))
        (local.set $count (i32.add (local.get $count) (i32.const 1)))
        (local.set $s (i32.add (local.get $e) (i32.const 1)))
        (br $lines)))
    (local.get $count))
)
