// SPDX-License-Identifier: MIT
// Slashing on evidence checked on chain: a provider's EIP-712 signed result plus two staked
// verifiers' signed verdicts against it slash the provider (consumer refunded, verifiers
// rewarded, rest burned); a verdict contradicting a canary's committed answer slashes its verifier.
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ProviderRegistry} from "./ProviderRegistry.sol";
import {Escrow} from "./Escrow.sol";
import {Bps} from "./Bps.sol";

contract Slashing is EIP712 {
    bytes32 public constant RESULT_TYPEHASH = keccak256(
        "Result(bytes32 jobId,uint32 attempt,bytes32 outputHash,uint256 units,address consumer,uint256 cost)"
    );
    bytes32 public constant VERDICT_TYPEHASH =
        keccak256("Verdict(bytes32 result,bool valid,uint64 issuedAt)");
    address public constant BURN = 0x000000000000000000000000000000000000dEaD;

    struct Result {
        bytes32 jobId;
        uint32 attempt;
        bytes32 outputHash;
        uint256 units;
        address consumer;
        uint256 cost;
    }

    /// `result` is the EIP-712 struct hash of the Result the verdict is about.
    struct Verdict {
        bytes32 result;
        bool valid;
        uint64 issuedAt;
    }

    struct Params {
        uint256 providerPenalty;
        uint256 verifierPenalty;
        uint16 verifierRewardBps;
        uint64 disputeWindow;
    }

    ProviderRegistry public immutable registry;
    Escrow public immutable escrow;
    address public immutable canaryAuthority;
    uint256 public immutable providerPenalty;
    uint256 public immutable verifierPenalty;
    uint16 public immutable verifierRewardBps;
    uint64 public immutable disputeWindow;

    /// result struct hash => evidence already used to slash
    mapping(bytes32 => bool) public resultSlashed;
    /// result struct hash => a dispute was opened on it
    mapping(bytes32 => bool) public flagged;
    /// consumer => provider => amount already refunded from that provider's stake
    mapping(address => mapping(address => uint256)) public refunded;
    /// keccak256(abi.encode(verdict struct hash, verifier)) => that verifier already slashed for it
    mapping(bytes32 => bool) public verdictSlashed;
    /// keccak256(abi.encode(jobId, answerHash, salt)) => block time of the commitment
    mapping(bytes32 => uint64) public canaryCommittedAt;

    event DisputeOpened(bytes32 indexed result, address indexed provider, address indexed verifier, uint64 until);
    event ProviderSlashed(bytes32 indexed result, address indexed provider, uint256 amount, uint256 refund, uint256 reward);
    event CanaryCommitted(bytes32 indexed commitment);
    event VerifierSlashed(bytes32 indexed verdict, address indexed verifier, uint256 amount);

    error BadParams();
    error EvidenceUsed();
    error VerdictNotAgainst();
    error VerdictForOtherResult();
    error SameVerifier();
    error VerifierIsProvider();
    error VerifierNotStaked(address verifier);
    error ProviderNotRegistered(address provider);
    error NotCanaryAuthority();
    error CanaryAlreadyCommitted();
    error UnknownCanary();
    error VerdictBeforeCanary();
    error VerdictWasRight();

    constructor(ProviderRegistry registry_, Escrow escrow_, address canaryAuthority_, Params memory p) EIP712("TesseraSlashing", "1") {
        if (p.verifierRewardBps > 10_000) revert BadParams();
        registry = registry_;
        escrow = escrow_;
        canaryAuthority = canaryAuthority_;
        providerPenalty = p.providerPenalty;
        verifierPenalty = p.verifierPenalty;
        verifierRewardBps = p.verifierRewardBps;
        disputeWindow = p.disputeWindow;
    }

    function resultHash(Result calldata r) public pure returns (bytes32) {
        return keccak256(abi.encode(RESULT_TYPEHASH, r.jobId, r.attempt, r.outputHash, r.units, r.consumer, r.cost));
    }

    function verdictHash(Verdict calldata v) public pure returns (bytes32) {
        return keccak256(abi.encode(VERDICT_TYPEHASH, v.result, v.valid, v.issuedAt));
    }

    function digest(bytes32 structHash) public view returns (bytes32) {
        return _hashTypedDataV4(structHash);
    }

    /// One verdict against a signed result freezes the provider's stake for `disputeWindow`, so
    /// it cannot withdraw while the second verifier is at work.
    function openDispute(Result calldata r, bytes calldata providerSig, Verdict calldata v, bytes calldata verifierSig)
        external
    {
        bytes32 rh = resultHash(r);
        if (resultSlashed[rh] || flagged[rh]) revert EvidenceUsed();
        address provider = ECDSA.recover(_hashTypedDataV4(rh), providerSig);
        address verifier = _verdictAgainst(rh, provider, v, verifierSig);
        flagged[rh] = true;
        uint64 until = uint64(block.timestamp) + disputeWindow;
        registry.freeze(provider, until);
        emit DisputeOpened(rh, provider, verifier, until);
    }

    /// Two distinct staked verifiers' verdicts against the provider's signed result slash the
    /// provider once: cost + penalty from its stake; the consumer gets the job's cost back (never
    /// more than it has paid this provider through the escrow, so a provider cannot use a fake
    /// result to move its stake out to an accomplice), the verifiers share `verifierRewardBps`
    /// of the rest, and the remainder is burned.
    function slashProvider(
        Result calldata r,
        bytes calldata providerSig,
        Verdict[2] calldata verdicts,
        bytes[2] calldata verifierSigs
    ) external returns (uint256 taken) {
        bytes32 rh = resultHash(r);
        if (resultSlashed[rh]) revert EvidenceUsed();
        address provider = ECDSA.recover(_hashTypedDataV4(rh), providerSig);
        if (!registry.nodeOf(provider).registered) revert ProviderNotRegistered(provider);
        address a = _verdictAgainst(rh, provider, verdicts[0], verifierSigs[0]);
        address b = _verdictAgainst(rh, provider, verdicts[1], verifierSigs[1]);
        if (a == b) revert SameVerifier();
        resultSlashed[rh] = true;
        taken = _slashProvider(rh, provider, r.consumer, r.cost, a, b);
    }

    function _slashProvider(bytes32 rh, address provider, address consumer, uint256 cost, address a, address b)
        private
        returns (uint256 taken)
    {
        ProviderRegistry.Node memory n = registry.nodeOf(provider);
        uint256 stake = n.bonded + n.unbonding;
        // min(cost + providerPenalty, stake) without the sum, which can pass 2^256 (cost is whatever
        // the provider signed): cost + penalty < stake exactly when cost < stake and penalty < stake − cost
        taken = cost < stake && providerPenalty < stake - cost ? cost + providerPenalty : stake;
        uint256 refund = cost < taken ? cost : taken;
        uint256 refundable = escrow.redeemed(consumer, provider) - refunded[consumer][provider];
        if (refund > refundable) refund = refundable;
        refunded[consumer][provider] += refund;
        uint256 each = Bps.share(taken - refund, verifierRewardBps) / 2;

        address[] memory to = new address[](3);
        uint256[] memory amounts = new uint256[](3);
        (to[0], to[1], to[2]) = (consumer, a, b);
        (amounts[0], amounts[1], amounts[2]) = (refund, each, each);
        registry.slash(provider, taken, to, amounts, BURN);
        emit ProviderSlashed(rh, provider, taken, refund, each * 2);
    }

    /// The canary authority commits to a canary's answer before any verdict on it exists;
    /// only the hash is public, so canaries stay indistinguishable from real jobs.
    function commitCanary(bytes32 commitment) external {
        if (msg.sender != canaryAuthority) revert NotCanaryAuthority();
        if (canaryCommittedAt[commitment] != 0) revert CanaryAlreadyCommitted();
        canaryCommittedAt[commitment] = uint64(block.timestamp);
        emit CanaryCommitted(commitment);
    }

    /// Slashes a verifier whose signed verdict on a canary contradicts the committed answer
    /// (called a correct result wrong, or a wrong result right). All of it is burned.
    function slashVerifier(
        Result calldata r,
        Verdict calldata v,
        bytes calldata verifierSig,
        bytes32 answerHash,
        bytes32 salt
    ) external returns (uint256 taken) {
        bytes32 vh = verdictHash(v);
        if (v.result != resultHash(r)) revert VerdictForOtherResult();
        uint64 committedAt = canaryCommittedAt[keccak256(abi.encode(r.jobId, answerHash, salt))];
        if (committedAt == 0) revert UnknownCanary();
        if (v.issuedAt < committedAt) revert VerdictBeforeCanary();
        if (v.valid == (r.outputHash == answerHash)) revert VerdictWasRight();
        address verifier = ECDSA.recover(_hashTypedDataV4(vh), verifierSig);
        // two verifiers can sign the very same verdict (same result, answer and second): each is slashed once
        bytes32 used = keccak256(abi.encode(vh, verifier));
        if (verdictSlashed[used]) revert EvidenceUsed();
        if (!registry.nodeOf(verifier).registered) revert VerifierNotStaked(verifier);
        verdictSlashed[used] = true;
        ProviderRegistry.Node memory n = registry.nodeOf(verifier);
        uint256 stake = n.bonded + n.unbonding;
        uint256 want = verifierPenalty < stake ? verifierPenalty : stake;
        taken = registry.slash(verifier, want, new address[](0), new uint256[](0), BURN);
        emit VerifierSlashed(vh, verifier, taken);
    }

    function _verdictAgainst(bytes32 rh, address provider, Verdict calldata v, bytes calldata sig)
        private
        view
        returns (address verifier)
    {
        if (v.result != rh) revert VerdictForOtherResult();
        if (v.valid) revert VerdictNotAgainst();
        verifier = ECDSA.recover(_hashTypedDataV4(verdictHash(v)), sig);
        if (verifier == provider) revert VerifierIsProvider();
        if (!registry.isActive(verifier)) revert VerifierNotStaked(verifier);
    }
}
