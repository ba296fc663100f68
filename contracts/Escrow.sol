// SPDX-License-Identifier: MIT
// Consumer deposits and EIP-712 cumulative payment vouchers. A consumer signs, per provider, the
// running total it owes; the provider redeems the latest one to collect everything in one
// transaction. Withdrawals wait out a delay so that providers can redeem first.
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {NodeShares} from "./NodeShares.sol";
import {Bps} from "./Bps.sol";

contract Escrow is EIP712 {
    using SafeERC20 for IERC20;

    bytes32 public constant VOUCHER_TYPEHASH =
        keccak256("Voucher(address consumer,address provider,uint256 cumulative)");

    struct Voucher {
        address consumer;
        address provider;
        uint256 cumulative;
    }

    struct Withdrawal {
        uint256 amount;
        uint64 readyAt;
    }

    IERC20 public immutable token;
    NodeShares public immutable shares;
    uint64 public immutable withdrawDelay;
    uint16 public immutable feeBps;
    address public immutable feeRecipient;

    mapping(address => uint256) public balanceOf;
    mapping(address => Withdrawal) public pendingWithdrawal;
    /// consumer => provider => cumulative amount already redeemed
    mapping(address => mapping(address => uint256)) public redeemed;
    uint256 public totalDeposits;

    event Deposited(address indexed consumer, uint256 amount, uint256 balance);
    event WithdrawalRequested(address indexed consumer, uint256 amount, uint64 readyAt);
    event Withdrawn(address indexed consumer, uint256 amount);
    event Redeemed(address indexed consumer, address indexed provider, uint256 cumulative, uint256 paid, uint256 fee);

    error ZeroAmount();
    error NoWithdrawal();
    error WithdrawalNotReady(uint64 readyAt);
    error StaleVoucher(uint256 cumulative, uint256 alreadyRedeemed);
    error WrongSigner(address signer, address consumer);
    error NotVoucherProvider();
    error InsufficientDeposit(uint256 balance, uint256 owed);
    error FeeTooHigh();

    constructor(IERC20 token_, NodeShares shares_, uint64 withdrawDelay_, uint16 feeBps_, address feeRecipient_)
        EIP712("TesseraEscrow", "1")
    {
        if (feeBps_ > 10_000) revert FeeTooHigh();
        token = token_;
        shares = shares_;
        withdrawDelay = withdrawDelay_;
        feeBps = feeBps_;
        feeRecipient = feeRecipient_;
    }

    function deposit(uint256 amount) external {
        depositFor(msg.sender, amount);
    }

    function depositFor(address consumer, uint256 amount) public {
        if (amount == 0) revert ZeroAmount();
        balanceOf[consumer] += amount;
        totalDeposits += amount;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit Deposited(consumer, amount, balanceOf[consumer]);
    }

    /// Announces a withdrawal; it can be taken after `withdrawDelay`. Providers watching the event
    /// redeem their latest vouchers meanwhile. A new request replaces the previous one.
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint64 readyAt = uint64(block.timestamp) + withdrawDelay;
        pendingWithdrawal[msg.sender] = Withdrawal(amount, readyAt);
        emit WithdrawalRequested(msg.sender, amount, readyAt);
    }

    /// Pays out the requested amount, or the whole balance if redemptions have left less.
    function withdraw() external {
        Withdrawal memory w = pendingWithdrawal[msg.sender];
        if (w.amount == 0) revert NoWithdrawal();
        if (block.timestamp < w.readyAt) revert WithdrawalNotReady(w.readyAt);
        uint256 bal = balanceOf[msg.sender];
        uint256 amount = w.amount < bal ? w.amount : bal;
        delete pendingWithdrawal[msg.sender];
        balanceOf[msg.sender] = bal - amount;
        totalDeposits -= amount;
        if (amount > 0) token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    function voucherDigest(Voucher calldata v) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(VOUCHER_TYPEHASH, v.consumer, v.provider, v.cumulative)));
    }

    /// Collects `v.cumulative - redeemed` from the consumer's deposit. Only the provider named in
    /// the voucher may redeem it, so nobody can force an early redemption or grief its timing.
    /// Revenue goes to the provider's share holders if it has issued shares, else to the provider.
    function redeem(Voucher calldata v, bytes calldata signature) external returns (uint256 owed) {
        if (msg.sender != v.provider) revert NotVoucherProvider();
        uint256 already = redeemed[v.consumer][v.provider];
        if (v.cumulative <= already) revert StaleVoucher(v.cumulative, already);
        address signer = ECDSA.recover(voucherDigest(v), signature);
        if (signer != v.consumer) revert WrongSigner(signer, v.consumer);
        owed = v.cumulative - already;
        uint256 bal = balanceOf[v.consumer];
        if (owed > bal) revert InsufficientDeposit(bal, owed);
        redeemed[v.consumer][v.provider] = v.cumulative;
        balanceOf[v.consumer] = bal - owed;
        totalDeposits -= owed;
        uint256 fee = Bps.share(owed, feeBps);
        uint256 net = owed - fee;
        if (fee > 0) token.safeTransfer(feeRecipient, fee);
        if (net > 0) {
            if (shares.issued(v.provider)) {
                token.forceApprove(address(shares), net);
                shares.distribute(v.provider, net);
            } else {
                token.safeTransfer(v.provider, net);
            }
        }
        emit Redeemed(v.consumer, v.provider, v.cumulative, net, fee);
    }
}
