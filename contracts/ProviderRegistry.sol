// SPDX-License-Identifier: MIT
// Stake and public metadata of providers and verifiers. Stake leaves only through an unbonding
// delay, stays slashable while unbonding, and cannot be withdrawn while a dispute has frozen it.
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

contract ProviderRegistry {
    using SafeERC20 for IERC20;

    struct Metadata {
        string region;
        uint256 pricePerUnit;
        bytes32 endpointKey;
    }

    struct Node {
        bool registered;
        uint256 bonded;
        uint256 unbonding;
        uint64 unbondReadyAt;
        uint64 frozenUntil;
        Metadata metadata;
    }

    IERC20 public immutable token;
    uint256 public immutable minStake;
    uint64 public immutable unbondDelay;
    address public immutable deployer;
    address public slasher;
    uint256 public totalStaked;
    mapping(address => Node) private nodes;

    event Registered(address indexed node, uint256 stake, string region, uint256 pricePerUnit, bytes32 endpointKey);
    event MetadataUpdated(address indexed node, string region, uint256 pricePerUnit, bytes32 endpointKey);
    event ToppedUp(address indexed node, uint256 amount, uint256 bonded);
    event Unbonding(address indexed node, uint256 amount, uint64 readyAt);
    event Withdrawn(address indexed node, uint256 amount);
    event Frozen(address indexed node, uint64 until);
    event Slashed(address indexed node, uint256 amount);

    error AlreadyRegistered();
    error NotRegistered();
    error StakeTooLow(uint256 stake, uint256 minStake);
    error ZeroAmount();
    error InsufficientBond(uint256 bonded, uint256 requested);
    error NothingUnbonding();
    error UnbondingNotReady(uint64 readyAt);
    error FrozenUntil(uint64 until);
    error NotSlasher();
    error SlasherAlreadySet();
    error NotDeployer();
    error PayoutExceedsSlash();

    constructor(IERC20 token_, uint256 minStake_, uint64 unbondDelay_) {
        token = token_;
        minStake = minStake_;
        unbondDelay = unbondDelay_;
        deployer = msg.sender;
    }

    /// Wires the slashing contract once; after that nobody, the deployer included, can change it.
    function setSlasher(address slasher_) external {
        if (msg.sender != deployer) revert NotDeployer();
        if (slasher != address(0)) revert SlasherAlreadySet();
        slasher = slasher_;
    }

    function register(uint256 stake, Metadata calldata metadata) external {
        Node storage n = nodes[msg.sender];
        if (n.registered) revert AlreadyRegistered();
        if (stake < minStake) revert StakeTooLow(stake, minStake);
        n.registered = true;
        n.bonded = stake;
        n.metadata = metadata;
        totalStaked += stake;
        token.safeTransferFrom(msg.sender, address(this), stake);
        emit Registered(msg.sender, stake, metadata.region, metadata.pricePerUnit, metadata.endpointKey);
    }

    function updateMetadata(Metadata calldata metadata) external {
        Node storage n = nodes[msg.sender];
        if (!n.registered) revert NotRegistered();
        n.metadata = metadata;
        emit MetadataUpdated(msg.sender, metadata.region, metadata.pricePerUnit, metadata.endpointKey);
    }

    function topUp(uint256 amount) external {
        Node storage n = nodes[msg.sender];
        if (!n.registered) revert NotRegistered();
        if (amount == 0) revert ZeroAmount();
        n.bonded += amount;
        totalStaked += amount;
        token.safeTransferFrom(msg.sender, address(this), amount);
        emit ToppedUp(msg.sender, amount, n.bonded);
    }

    /// Starts the waiting period for `amount`; a later unbond restarts it for everything unbonding.
    function unbond(uint256 amount) external {
        Node storage n = nodes[msg.sender];
        if (!n.registered) revert NotRegistered();
        if (amount == 0) revert ZeroAmount();
        if (amount > n.bonded) revert InsufficientBond(n.bonded, amount);
        n.bonded -= amount;
        n.unbonding += amount;
        n.unbondReadyAt = uint64(block.timestamp) + unbondDelay;
        emit Unbonding(msg.sender, amount, n.unbondReadyAt);
    }

    function withdraw() external {
        Node storage n = nodes[msg.sender];
        uint256 amount = n.unbonding;
        if (amount == 0) revert NothingUnbonding();
        if (block.timestamp < n.unbondReadyAt) revert UnbondingNotReady(n.unbondReadyAt);
        if (block.timestamp < n.frozenUntil) revert FrozenUntil(n.frozenUntil);
        n.unbonding = 0;
        totalStaked -= amount;
        token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    /// Called by the slashing contract when a dispute opens: no withdrawal until `until`.
    function freeze(address node, uint64 until) external {
        if (msg.sender != slasher) revert NotSlasher();
        if (!nodes[node].registered) revert NotRegistered();
        if (until > nodes[node].frozenUntil) nodes[node].frozenUntil = until;
        emit Frozen(node, until);
    }

    /// Takes up to `amount` (bonded first, then unbonding) and pays it out as the slasher says;
    /// whatever is not paid out goes to the burn address. Returns what was actually taken.
    function slash(address node, uint256 amount, address[] calldata to, uint256[] calldata amounts, address burn)
        external
        returns (uint256 taken)
    {
        if (msg.sender != slasher) revert NotSlasher();
        Node storage n = nodes[node];
        if (!n.registered) revert NotRegistered();
        uint256 fromBond = amount < n.bonded ? amount : n.bonded;
        n.bonded -= fromBond;
        uint256 rest = amount - fromBond;
        uint256 fromUnbonding = rest < n.unbonding ? rest : n.unbonding;
        n.unbonding -= fromUnbonding;
        taken = fromBond + fromUnbonding;
        totalStaked -= taken;
        uint256 paid;
        for (uint256 i = 0; i < to.length; i++) {
            paid += amounts[i];
            if (paid > taken) revert PayoutExceedsSlash();
            if (amounts[i] > 0) token.safeTransfer(to[i], amounts[i]);
        }
        if (taken > paid) token.safeTransfer(burn, taken - paid);
        emit Slashed(node, taken);
    }

    function nodeOf(address node) external view returns (Node memory) {
        return nodes[node];
    }

    function isActive(address node) public view returns (bool) {
        Node storage n = nodes[node];
        return n.registered && n.bonded >= minStake;
    }
}
