import Foundation
import TestFixtures

/// The repository's fixture locator (`Fixtures/`), visible to every file of this module without an import.
typealias Fixtures = TestFixtures.Fixtures

/// Fixture decoding and small byte helpers for the tests.
extension Fixtures {
    /// A dstack fixture JSON as a dictionary.
    static func json(_ relative: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(try bytes(relative)))
        return object as? [String: Any] ?? [:]
    }

    /// A fixed instant at which every fixture certificate is valid (2027-01-15).
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    /// The 141-byte request of the reference vector (the `chat-stream` request in `Fixtures/vllm/NOTICE.md`).
    static let request = Array(
        #"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":8,"stream":true,"stream_options":{"include_usage":true},"seed":1}"#
            .utf8)

    /// Nonce 00 01 … 1f.
    static let nonce = (0..<32).map { UInt8($0) }

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return [] }
            bytes.append(value)
        }
        return bytes
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func jsonBytes(_ object: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }
}

/// Reference vectors (each reproduced with an independent implementation) and the keys the dstack
/// simulator derives from `Fixtures/dstack/appkeys.json`.
enum Vectors {
    static let textA =
        "5ebe7abfa2d3061b5b1f44fdb922dd4d8d29c9e1e12ac12379430b883f703c84:83e02d1d772435f1fb7127d3caa8d3b94807bf0513239d39b297a32466ecb538"
    static let hardhatAddress = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    static let hardhatSignatureA =
        "0xdd181f26da45d3db6f8b88bff3af8213499cea485974d32225978eb5555e89707741b90e5eb674c9b304dda6ff9029f82cc7178475b5ef1c2cb8716a6e28289c1b"
    static let hardhatSignatureB =
        "0xad58e656e299aa313b8a527a1d0ce329c32d4c2bbba252191d4372b9df290a4f7addb326881b1231523660180b69c028c690b773ef10dcd2a74fd29f7f7563c71c"
    static let rfc8032Seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    static let rfc8032Public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    static let rfc8032SignatureA =
        "19761afc09646c33c12f5bfb04a392aba46aaafa36e5da1cecb56cf30f9353d017f4b8bfdea1dec9ea1b26f3ef11c6c219b464b1509e8a4767993c1195abce0a"

    static let simulatorAddress = "0xB6A9f297c41c48a978eDD2f9Ba48c355aE418FA4"
    static let simulatorPublicXY =
        "5a4083dbce132694e7e55615ce29033c47d304c0d47c4972621a91df4c307ac8ae95f736d70fc7199233d141c97904dca0400f18ffef8dd6126b59d54620cf0c"
    static let simulatorCompressed = "025a4083dbce132694e7e55615ce29033c47d304c0d47c4972621a91df4c307ac8"
    static let simulatorLink0 =
        "809854ace6ef4dc48c5c8edc6f2946254ceebb798773ba8a1659dd76ca3fcace517b14311b7b88509a99bf5dacfecc6c0018470011acbd5ebb8c48f059357f1200"
    static let simulatorSignatureA =
        "0x2bd9e5304ce15225c6221afc61990d78a805bc59da8a44c97cc027fa19f349c43f8174d506a7997de2d2a09e9d97ce67a1a2fd1d44508113c7d15d2404be41521b"
    static let simulatorEd25519Public = "763b714f70ece323e9bc5894a0113e16192938c11af32a9b8043ee0402416b31"
    static let simulatorEd25519Link0 =
        "a23a71fcc5c9a056970b68e94c2a3649aee9b234cca095d5b9c6c8e6fc6998315367a61c4a04efd5c7cd5ea45b0c1cb4006577e09c2a9a615d25e6eab85fc61e00"
    static let simulatorEd25519SignatureA =
        "d7958713f25a1010d9aeb9ad61cf7b2cfe5342a6abd93057af2a6222d2e13e95dbf4548c5ca472cc7cd5a21ec96eb5260393098b96f41bc47ec26458992ef60c"
    static let simulatorAppID = "5bb4ff9a3837357f19dc176407a5709c62eb6c56"
    static let simulatorKMSRoot = "0321529e458424ab1f710a3a57ec4dad2fb195ddca572f7469242ba6c7563085b6"
    static let tlsFingerprint = "7af8c9f9564fbc3c472767a38de21a51830c7047175cf8ec88bc9b7febc0c8a8"
    static let tlsBoundHead = "be437560b59a3ae9fa043e4e7680b6fae252b3d0fdf0c2ea56d282f2e6a2dbc9"

    static func signatureRecord(text: String, signature: String, address: String, algo: String) throws -> [UInt8] {
        try Fixtures.jsonBytes(["text": text, "signature": signature, "signing_address": address, "signing_algo": algo])
    }
}
