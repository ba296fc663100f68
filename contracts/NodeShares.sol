// SPDX-License-Identifier: MIT
// Transferable shares in a provider's earnings (ERC-1155, token id = the provider's address).
// Revenue is split pro rata with a per-share accumulator, so distribution and claims cost the
// same whatever the number of holders; transfers settle both sides before balances move.
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

contract NodeShares is ERC1155 {
    using SafeERC20 for IERC20;

    /// Fixed-point scale of the accumulator.
    uint256 private constant MAG = 2 ** 128;

    IERC20 public immutable token;
    mapping(uint256 => uint256) public totalShares;
    /// revenue per share, scaled by MAG
    mapping(uint256 => uint256) public accPerShare;
    /// remainder of (amount * MAG) not yet expressible per share, carried into the next distribution
    mapping(uint256 => uint256) private carry;
    /// id => holder => accPerShare at the holder's last settlement
    mapping(uint256 => mapping(address => uint256)) private paidPerShare;
    /// id => holder => settled but unclaimed revenue
    mapping(uint256 => mapping(address => uint256)) public owed;

    event SharesIssued(address indexed provider, uint256 supply);
    event RevenueDistributed(address indexed provider, uint256 amount);
    event Claimed(address indexed provider, address indexed holder, uint256 amount);

    error AlreadyIssued();
    error NotIssued();
    error ZeroAmount();

    constructor(IERC20 token_) ERC1155("") {
        token = token_;
    }

    function idOf(address provider) public pure returns (uint256) {
        return uint256(uint160(provider));
    }

    function issued(address provider) external view returns (bool) {
        return totalShares[idOf(provider)] > 0;
    }

    /// The provider mints the whole, fixed supply of its shares to itself once, then sells or
    /// gives them away with ordinary ERC-1155 transfers.
    function issue(uint256 supply) external {
        uint256 id = idOf(msg.sender);
        if (totalShares[id] > 0) revert AlreadyIssued();
        if (supply == 0) revert ZeroAmount();
        totalShares[id] = supply;
        _mint(msg.sender, id, supply, "");
        emit SharesIssued(msg.sender, supply);
    }

    /// Pulls `amount` from the caller and credits it to the provider's holders pro rata.
    function distribute(address provider, uint256 amount) external {
        uint256 id = idOf(provider);
        uint256 supply = totalShares[id];
        if (supply == 0) revert NotIssued();
        if (amount == 0) revert ZeroAmount();
        token.safeTransferFrom(msg.sender, address(this), amount);
        // accPerShare += floor((amount·MAG + carry) / supply), carrying the remainder, in full precision
        // (amount * MAG + carry overflowed from amount = 2^128 on). With amount·MAG = q·supply + r
        // (512-bit mulDiv and mulmod), amount·MAG + carry = q·supply + (r + carry), and as r and carry
        // are both below supply, the quotient is q + 1 if r + carry ≥ supply (remainder r + carry −
        // supply), else q (remainder r + carry): the same integers as before wherever it did not overflow.
        uint256 c = carry[id];
        uint256 q = Math.mulDiv(amount, MAG, supply);
        uint256 r = mulmod(amount, MAG, supply);
        if (r >= supply - c) {
            q += 1;
            r -= supply - c;
        } else {
            r += c;
        }
        accPerShare[id] += q;
        carry[id] = r;
        emit RevenueDistributed(provider, amount);
    }

    function claimable(address provider, address holder) public view returns (uint256) {
        uint256 id = idOf(provider);
        return owed[id][holder] + Math.mulDiv(balanceOf(holder, id), accPerShare[id] - paidPerShare[id][holder], MAG);
    }

    function claim(address provider) external returns (uint256 amount) {
        uint256 id = idOf(provider);
        _settle(id, msg.sender);
        amount = owed[id][msg.sender];
        owed[id][msg.sender] = 0;
        if (amount > 0) token.safeTransfer(msg.sender, amount);
        emit Claimed(provider, msg.sender, amount);
    }

    function _settle(uint256 id, address holder) private {
        uint256 acc = accPerShare[id];
        uint256 last = paidPerShare[id][holder];
        if (acc != last) {
            // floor(balance × (acc − last) / MAG) in full precision: the product overflowed once a
            // holder's unsettled revenue passed 2^128
            owed[id][holder] += Math.mulDiv(balanceOf(holder, id), acc - last, MAG);
            paidPerShare[id][holder] = acc;
        }
    }

    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        for (uint256 i = 0; i < ids.length; i++) {
            if (from != address(0)) _settle(ids[i], from);
            if (to != address(0)) _settle(ids[i], to);
        }
        super._update(from, to, ids, values);
    }
}
