/// Intel's collateral for one quote, as bytes fetched from Intel PCS v4 (or a PCCS cache).
///
/// It is signed by Intel and verified offline against the pinned Intel SGX Root CA, so it can be
/// fetched once, stored and used until its `nextUpdate`. Give it in `VerificationOptions.collateral`
/// to turn the `dcap.tcb-status` and `dcap.revocation` checks from `skip` into real checks.
///
/// | Field | PCS v4 source |
/// |---|---|
/// | ``tcbInfo`` | body of `GET /tdx/certification/v4/tcb?fmspc=…` |
/// | ``tcbInfoIssuerChain`` | its `TCB-Info-Issuer-Chain` header, URL-decoded |
/// | ``qeIdentity`` | body of `GET /tdx/certification/v4/qe/identity` |
/// | ``qeIdentityIssuerChain`` | its `SGX-Enclave-Identity-Issuer-Chain` header, URL-decoded |
/// | ``pckCRL`` | body of `GET /sgx/certification/v4/pckcrl?ca=platform\|processor&encoding=der` |
/// | ``pckCRLIssuerChain`` | its `SGX-PCK-CRL-Issuer-Chain` header, URL-decoded |
/// | ``rootCACRL`` | `https://certificates.trustedservices.intel.com/IntelSGXRootCA.der` |
public struct QuoteCollateral: Sendable, Hashable {
    /// The TCB info answer: `{"tcbInfo":{…},"signature":"<hex r‖s>"}`, byte for byte.
    public var tcbInfo: [UInt8]
    /// PEM chain of the TCB info signer: "Intel SGX TCB Signing", then the root.
    public var tcbInfoIssuerChain: [UInt8]
    /// The QE identity answer: `{"enclaveIdentity":{…},"signature":"<hex r‖s>"}`, byte for byte.
    public var qeIdentity: [UInt8]
    /// PEM chain of the QE identity signer.
    public var qeIdentityIssuerChain: [UInt8]
    /// CRL of the CA that issued the PCK certificate (DER, PEM or hex). Without it, revocation is skipped.
    public var pckCRL: [UInt8]?
    /// PEM chain of the PCK CRL issuer; optional, the quote's own PCK CA certificate is used otherwise.
    public var pckCRLIssuerChain: [UInt8]?
    /// CRL of the Intel SGX Root CA (DER, PEM or hex). Without it, revocation is skipped.
    public var rootCACRL: [UInt8]?

    /// Creates collateral from the fetched or stored bytes.
    public init(
        tcbInfo: [UInt8],
        tcbInfoIssuerChain: [UInt8],
        qeIdentity: [UInt8],
        qeIdentityIssuerChain: [UInt8],
        pckCRL: [UInt8]? = nil,
        pckCRLIssuerChain: [UInt8]? = nil,
        rootCACRL: [UInt8]? = nil
    ) {
        self.tcbInfo = tcbInfo
        self.tcbInfoIssuerChain = tcbInfoIssuerChain
        self.qeIdentity = qeIdentity
        self.qeIdentityIssuerChain = qeIdentityIssuerChain
        self.pckCRL = pckCRL
        self.pckCRLIssuerChain = pckCRLIssuerChain
        self.rootCACRL = rootCACRL
    }
}
