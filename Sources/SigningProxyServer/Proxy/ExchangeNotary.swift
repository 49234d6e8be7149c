import Logging
import NIOCore
import SigningCore
import SigningCrypto

/// Records clean exchanges in the signature store and hands out their signatures (docs/API.md, Signatures).
///
/// `SIGNING_MODE=eager` signs both algorithms when the record is prepared, before the response's
/// last bytes are released. `lazy` prepares the hashes only and signs each algorithm on the first
/// lookup that asks for it, caching the result in the same record. Either way a record becomes visible
/// only once the bytes it covers have all been written (`publish`). Records live in this
/// process's memory, and with a shared store (`REDIS_HOST`) in Redis too: only signed records are written
/// there, before the answer's last bytes are released (docs/API.md, "Shared receipt store").
package struct ExchangeNotary: Sendable {
    package let signer: ExchangeSigner
    package let store: SignatureStore<SignatureRecord>
    package let metrics: ProxyMetrics
    package let mode: SigningMode
    /// The records shared with the other replicas; nil: this process only.
    package let shared: SharedReceiptStore?
    /// Prepared records whose bytes are still being written.
    let pending = PendingRecords()

    /// Longest chat id stored; vLLM's own are about 25 bytes.
    package static let maxChatIDLength = 256

    package init(
        signer: ExchangeSigner, store: SignatureStore<SignatureRecord>, metrics: ProxyMetrics, mode: SigningMode,
        shared: SharedReceiptStore? = nil
    ) {
        self.signer = signer
        self.store = store
        self.metrics = metrics
        self.mode = mode
        self.shared = shared
    }

    /// Whether records must be signed when prepared, whatever the mode: only signed records are shared.
    package var signsForSharing: Bool { shared != nil }

    /// A signed (eager) or signable (lazy) exchange that is not visible yet: `publish` it once the
    /// bytes it covers have been written completely, or `drop` it (docs/API.md, Signatures).
    package struct PreparedRecord: Sendable {
        package let chatID: ChatID
        fileprivate let record: SignatureRecord
    }

    /// Builds the record for a clean exchange without storing it: signed now (eager) or hashes only (lazy).
    ///
    /// Call it before the exchange's terminal bytes are released, so signing never races the client.
    /// - Parameters:
    ///   - chatID: the id as decoded from the response; stored under its exact UTF-8 bytes.
    ///   - requestHash: 64 lowercase hex digits, as `StreamDigest` and the `X-Request-Hash` check give them.
    ///   - responseHash: likewise.
    /// - Returns: `nil` (counted as unsigned, or as a duplicate) if the id is too long or already
    ///   taken, a hash is not lowercase hex, or signing fails.
    /// - Parameter signNow: sign both algorithms now whatever the mode (an inline receipt needs them).
    package func prepare(
        chatID: String, requestHash: String, responseHash: String, signNow: Bool = false, logger: Logger
    ) -> PreparedRecord? {
        // Callers can choose ids (vLLM honours `request_id`); a cap keeps the store's memory bounded.
        guard chatID.utf8.count <= Self.maxChatIDLength else {
            metrics.increment(.signaturesUnsigned)
            logger.warning("chat id longer than \(Self.maxChatIDLength) bytes; left unsigned")
            return nil
        }
        let id = ChatID(chatID)
        // Saves signing an exchange that would lose at `publish` anyway; `publish` still decides.
        guard store.lookup(id) == nil else {
            countDuplicate(id, logger: logger)
            return nil
        }
        // The store keeps the hashes as bytes and rebuilds the text from them, so they must read back
        // as the very digits signed.
        guard let request = FixedBytes<32>(lowercaseHex: requestHash),
            let response = FixedBytes<32>(lowercaseHex: responseHash)
        else {
            metrics.increment(.signaturesUnsigned)
            logger.error("exchange hash is not 64 lowercase hex digits; left unsigned")
            return nil
        }
        let record: SignatureRecord
        switch signNow ? .eager : mode {
        case .eager:
            do {
                record = try signer.sign(requestHash: request, responseHash: response)
            } catch {
                metrics.increment(.signaturesUnsigned)
                logger.error("signing failed", metadata: ["error": "\(error)"])
                return nil
            }
        case .lazy:
            record = SignatureRecord(requestHash: request, responseHash: response)
        }
        pending.add(id)
        return PreparedRecord(chatID: id, record: record)
    }

    /// The record's receipt, one `/v1/signature` answer per algorithm, for the answer itself to carry
    /// (docs/API.md, Inline receipts); nil when it was prepared without signatures (lazy mode).
    package func receipt(of prepared: PreparedRecord) -> InlineProof? {
        let record = prepared.record
        guard let ecdsa = record[.ecdsa], let ed25519 = record[.ed25519] else { return nil }
        let keys = signer.keys
        return InlineProof(
            text: signer.text(of: record), ecdsaSignature: ecdsa, ecdsaAddress: keys.signingAddress(.ecdsa),
            ed25519Signature: ed25519, ed25519PublicKey: keys.signingAddress(.ed25519))
    }

    /// Makes a prepared record visible, once every byte it covers has been written; first writer wins.
    /// - Returns: whether it was stored (`false`: another exchange stored the id first, counted as a duplicate).
    @discardableResult
    package func publish(_ prepared: PreparedRecord, logger: Logger) -> Bool {
        // Stored before it stops being pending, so a waiting lookup never sees neither.
        defer { pending.remove(prepared.chatID) }
        guard store.insert(prepared.record, for: prepared.chatID) else {
            countDuplicate(prepared.chatID, logger: logger)
            return false
        }
        metrics.increment(.signaturesStored)
        return true
    }

    /// Starts sharing a prepared record, if a shared store is configured, and says what to do once the answer's
    /// delivery is known (docs/API.md, "Shared receipt store", Ordering).
    /// - Returns: `settle`, to call with whether every byte was delivered: it publishes the record here (unless
    ///   another replica stored the id first) or drops it (and deletes it from Redis if this write stored it);
    ///   `released`, which the answer's last bytes wait for (nil: no wait).
    package func release(
        _ prepared: PreparedRecord, on eventLoop: any EventLoop, logger: Logger
    ) -> (settle: (Bool) -> Void, released: EventLoopFuture<Void>?) {
        let write = shared?.write(prepared.record, for: prepared.chatID, on: eventLoop)
        let settle: (Bool) -> Void = { delivered in
            if delivered {
                if write?.lostToAnotherReplica == true {
                    // The id is another replica's: lookups anywhere get that record, so this one is not kept here.
                    pending.remove(prepared.chatID)
                    countDuplicate(prepared.chatID, logger: logger)
                } else if publish(prepared, logger: logger) {
                    write?.delivered()
                }
            } else {
                logger.info("client did not receive the whole response; its signature is dropped")
                drop(prepared)
                write?.retract()
            }
        }
        return (settle, write.flatMap { $0.outcome == nil ? $0.released : nil })
    }

    /// Discards a prepared record whose bytes were not all delivered (the write failed or the connection
    /// closed first): it is never stored, and it is counted.
    package func drop(_ prepared: PreparedRecord) {
        pending.remove(prepared.chatID)
        metrics.increment(.signaturesDroppedUndelivered)
    }

    /// Whether a record for `chatID` is prepared and waiting for its bytes to be written.
    package func isPending(_ chatID: String) -> Bool {
        pending.contains(ChatID(chatID))
    }

    /// Stores a clean exchange at once: `prepare` then `publish`, for callers with nothing left to write.
    /// - Returns: whether a record was stored for `chatID`.
    @discardableResult
    package func record(chatID: String, requestHash: String, responseHash: String, logger: Logger) -> Bool {
        guard let prepared = prepare(chatID: chatID, requestHash: requestHash, responseHash: responseHash, logger: logger) else {
            return false
        }
        return publish(prepared, logger: logger)
    }

    private func countDuplicate(_ chatID: ChatID, logger: Logger) {
        metrics.increment(.duplicateChatIDs)
        logger.warning("chat id already signed; this completion stays unsigned", metadata: ["chat.id": "\(chatID)"])
    }

    /// The unexpired record for `chatID` (its exact UTF-8 bytes), whose signatures may still be missing
    /// in lazy mode.
    package func lookup(_ chatID: String) -> SignatureRecord? {
        store.lookup(ChatID(chatID))
    }

    /// The text `record`'s signatures cover (docs/API.md, Signatures).
    package func text(of record: SignatureRecord) -> String {
        signer.text(of: record)
    }

    /// `algorithm`'s signature of `record` in hex: the stored one, or computed now and cached in the
    /// record stored for `chatID`.
    ///
    /// Signing runs outside the store's lock, so two concurrent first lookups may both sign. Both
    /// algorithms are deterministic, so they compute the same bytes; even if they did not, both would
    /// be valid signatures of the same text, and the first one cached is what every later lookup gets.
    /// - Throws: `OpenAIError.internalError` if signing fails (it does not with valid keys).
    package func signature(
        _ algorithm: SignatureAlgorithm, of record: SignatureRecord, chatID: String, logger: Logger
    ) throws(OpenAIError) -> String {
        if let signature = record[algorithm] { return signature }
        var signed = record
        let computed: String
        do {
            try signer.sign(algorithm, of: &signed)
            guard let hex = signed[algorithm] else { throw SigningCryptoError.signingFailed }
            computed = hex
        } catch {
            logger.error("signing on lookup failed", metadata: ["error": "\(error)"])
            throw .internalError
        }
        metrics.increment(.signaturesSignedOnLookup)
        // The hash check keeps a signature off a record that replaced an expired one meanwhile.
        let cached = store.update(ChatID(chatID)) { stored in
            if stored.coversSameExchange(as: signed) && !stored.hasSignature(algorithm) {
                stored.copySignature(algorithm, from: signed)
            }
        }
        if let cached, cached.coversSameExchange(as: signed), let signature = cached[algorithm] { return signature }
        return computed
    }
}
