;; spin: run never returns. Exists to test that the host enforces a job's time cap from
;; outside. Tessera job-module ABI: see packages/runtimes/src/wasm/abi.ts.
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

  (func (export "run") (param $ptr i32) (param $len i32) (result i32)
    (loop $forever (br $forever))
    unreachable)
)
