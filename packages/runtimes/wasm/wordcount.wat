;; wordcount: counts whitespace-separated words and bytes of the input and returns ASCII
;; JSON {"words":N,"bytes":M}. Whitespace is ASCII space, \t, \n, \v, \f and \r.
;; Tessera job-module ABI: see packages/runtimes/src/wasm/abi.ts.
(module
  (import "env" "memory" (memory 1))

  ;; JSON fragments in the static area below the heap.
  (data (i32.const 16) "{\"words\":")
  (data (i32.const 32) ",\"bytes\":")

  ;; Bump allocator, 8-byte aligned, above a 1 KiB static area. It grows memory on demand;
  ;; a refused grow (the job's memory cap) traps, which the host reports as a job fault.
  (global $heap (mut i32) (i32.const 1024))
  (func $alloc (export "alloc") (param $size i32) (result i32)
    (local $ptr i32) (local $end i64) (local $have i64)
    (local.set $ptr (global.get $heap))
    (local.set $end
      (i64.and
        (i64.add
          (i64.add (i64.extend_i32_u (local.get $ptr)) (i64.extend_i32_u (local.get $size)))
          (i64.const 7))
        (i64.const -8)))
    (if (i64.ge_u (local.get $end) (i64.const 0x1_0000_0000)) (then unreachable))
    (local.set $have (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
    (if (i64.gt_u (local.get $end) (local.get $have))
      (then
        (if (i32.eq
              (memory.grow
                (i32.wrap_i64
                  (i64.shr_u
                    (i64.add (i64.sub (local.get $end) (local.get $have)) (i64.const 0xffff))
                    (i64.const 16))))
              (i32.const -1))
          (then unreachable))))
    (global.set $heap (i32.wrap_i64 (local.get $end)))
    (local.get $ptr))

  ;; Writes n as ASCII decimal at dst and returns the address just past the last digit.
  (func $write_u64 (param $dst i32) (param $n i64) (result i32)
    (local $t i64) (local $end i32)
    (local.set $t (local.get $n))
    (local.set $end (i32.add (local.get $dst) (i32.const 1)))
    (block $counted
      (loop $count
        (br_if $counted (i64.lt_u (local.get $t) (i64.const 10)))
        (local.set $t (i64.div_u (local.get $t) (i64.const 10)))
        (local.set $end (i32.add (local.get $end) (i32.const 1)))
        (br $count)))
    (local.set $dst (local.get $end))
    (loop $digit
      (local.set $dst (i32.sub (local.get $dst) (i32.const 1)))
      (i32.store8 (local.get $dst)
        (i32.add (i32.const 48) (i32.wrap_i64 (i64.rem_u (local.get $n) (i64.const 10)))))
      (local.set $n (i64.div_u (local.get $n) (i64.const 10)))
      (br_if $digit (i64.ne (local.get $n) (i64.const 0))))
    (local.get $end))

  (func $copy (param $dst i32) (param $src i32) (param $n i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $dst))

  (func $is_space (param $c i32) (result i32)
    (i32.or
      (i32.eq (local.get $c) (i32.const 32))
      (i32.le_u (i32.sub (local.get $c) (i32.const 9)) (i32.const 4))))

  (func (export "run") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $words i64) (local $in_word i32) (local $out i32) (local $p i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
        (if (call $is_space (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
          (then (local.set $in_word (i32.const 0)))
          (else
            (if (i32.eqz (local.get $in_word))
              (then (local.set $words (i64.add (local.get $words) (i64.const 1)))))
            (local.set $in_word (i32.const 1))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    ;; 4-byte length + at most 9 + 10 + 9 + 10 + 1 bytes of JSON
    (local.set $out (call $alloc (i32.const 48)))
    (local.set $p (i32.add (local.get $out) (i32.const 4)))
    (local.set $p (call $copy (local.get $p) (i32.const 16) (i32.const 9)))
    (local.set $p (call $write_u64 (local.get $p) (local.get $words)))
    (local.set $p (call $copy (local.get $p) (i32.const 32) (i32.const 9)))
    (local.set $p (call $write_u64 (local.get $p) (i64.extend_i32_u (local.get $len))))
    (i32.store8 (local.get $p) (i32.const 125))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (i32.store (local.get $out) (i32.sub (local.get $p) (i32.add (local.get $out) (i32.const 4))))
    (local.get $out))
)
