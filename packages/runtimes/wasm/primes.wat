;; primes: input is n in ASCII decimal (digits only, n < 2^32); output is the count of primes
;; <= n in ASCII decimal. Plain trial division on purpose: the work grows like n^1.5/log n
;; with almost no memory, so n scales a CPU-bound job from microseconds to minutes.
;; Any other input traps. Tessera job-module ABI: see packages/runtimes/src/wasm/abi.ts.
(module
  (import "env" "memory" (memory 1))

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

  (func $parse_u32 (param $ptr i32) (param $len i32) (result i64)
    (local $end i32) (local $d i32) (local $n i64)
    (if (i32.eqz (local.get $len)) (then unreachable))
    (local.set $end (i32.add (local.get $ptr) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $d (i32.sub (i32.load8_u (local.get $ptr)) (i32.const 48)))
        (if (i32.gt_u (local.get $d) (i32.const 9)) (then unreachable))
        (local.set $n (i64.add (i64.mul (local.get $n) (i64.const 10)) (i64.extend_i32_u (local.get $d))))
        (if (i64.gt_u (local.get $n) (i64.const 0xffff_ffff)) (then unreachable))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; For odd n >= 3.
  (func $is_odd_prime (param $n i64) (result i32)
    (local $d i64)
    (local.set $d (i64.const 3))
    (block $prime
      (loop $next
        (br_if $prime (i64.gt_u (i64.mul (local.get $d) (local.get $d)) (local.get $n)))
        (if (i64.eqz (i64.rem_u (local.get $n) (local.get $d))) (then (return (i32.const 0))))
        (local.set $d (i64.add (local.get $d) (i64.const 2)))
        (br $next)))
    (i32.const 1))

  (func (export "run") (param $ptr i32) (param $len i32) (result i32)
    (local $n i64) (local $i i64) (local $count i64) (local $out i32) (local $end i32)
    (local.set $n (call $parse_u32 (local.get $ptr) (local.get $len)))
    (if (i64.ge_u (local.get $n) (i64.const 2)) (then (local.set $count (i64.const 1))))
    (local.set $i (i64.const 3))
    (block $done
      (loop $next
        (br_if $done (i64.gt_u (local.get $i) (local.get $n)))
        (if (call $is_odd_prime (local.get $i))
          (then (local.set $count (i64.add (local.get $count) (i64.const 1)))))
        (local.set $i (i64.add (local.get $i) (i64.const 2)))
        (br $next)))
    (local.set $out (call $alloc (i32.const 16)))
    (local.set $end (call $write_u64 (i32.add (local.get $out) (i32.const 4)) (local.get $count)))
    (i32.store (local.get $out) (i32.sub (local.get $end) (i32.add (local.get $out) (i32.const 4))))
    (local.get $out))
)
