;; reverse: returns the input bytes in reverse order.
;; Tessera job-module ABI (see packages/runtimes/src/wasm/abi.ts): imports only env.memory,
;; exports alloc(size) -> ptr and run(ptr, len) -> ptr of [u32 LE length][bytes].
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
    (local $out i32) (local $dst i32) (local $src i32)
    (local.set $out (call $alloc (i32.add (local.get $len) (i32.const 4))))
    (i32.store (local.get $out) (local.get $len))
    (local.set $dst (i32.add (local.get $out) (i32.const 4)))
    (local.set $src (i32.add (local.get $ptr) (local.get $len)))
    (block $done
      (loop $next
        (br_if $done (i32.le_u (local.get $src) (local.get $ptr)))
        (local.set $src (i32.sub (local.get $src) (i32.const 1)))
        (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (br $next)))
    (local.get $out))
)
