// SPDX-License-Identifier: MIT
// Basis-point shares of an amount without the overflow of `amount * bps / 10_000`, which reverted
// for amount > (2^256 - 1) / bps although the share itself always fits.
pragma solidity ^0.8.24;

library Bps {
    uint256 internal constant DENOMINATOR = 10_000;

    error BpsTooHigh();

    /// floor(amount × bps / 10_000), for any amount and bps ≤ 10_000 (more reverts; Escrow's and
    /// Slashing's constructors refuse more anyway).
    ///
    /// Equal to `amount * bps / 10_000` wherever that did not overflow: write amount = 10_000·q + r
    /// with q = amount / 10_000 and 0 ≤ r < 10_000. Then amount·bps / 10_000 = q·bps + r·bps / 10_000
    /// exactly, and since q·bps is an integer, floor(q·bps + x) = q·bps + floor(x); so
    /// floor(amount·bps / 10_000) = q·bps + floor(r·bps / 10_000), which is what is returned.
    /// Both sides are the exact floor, so they are the same integer for every amount, and checked
    /// arithmetic made the old form either that integer or a revert.
    ///
    /// Never overflows, hence `unchecked` (cheaper than the checked product it replaces): with
    /// bps ≤ 10_000, q·bps ≤ q·10_000 ≤ amount, r·bps < 10_000² = 10^8, and their sum is the result,
    /// floor(amount·bps / 10_000) ≤ amount.
    function share(uint256 amount, uint256 bps) internal pure returns (uint256) {
        if (bps > DENOMINATOR) revert BpsTooHigh();
        unchecked {
            return (amount / DENOMINATOR) * bps + ((amount % DENOMINATOR) * bps) / DENOMINATOR;
        }
    }
}
