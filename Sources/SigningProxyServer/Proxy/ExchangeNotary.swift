import Logging
import SigningCore

/// Records clean exchanges in the signature store and hands out their signatures (API.md §6, §7).
///
/// `SIGNING_MODE=eager` signs both algorithms when the record is prepared, before the response's
/// last bytes are released. `lazy` prepares the signed text only and signs each algorithm on the first
/// lookup that asks for it, caching the result in the same record. Either way a record becomes visible
/// only once the bytes it covers have all been written (`publish`). Records live in this
/// process's memory only: an unsigned record never leaves it, and no external store exists.
package struct ExchangeNotary: Sendable {
    package let signer: ExchangeSigner
    package let store: SignatureStore<SignatureRecord>
    package let metrics: ProxyMetrics
    package let mode: SigningMode

    /// Longest chat id stored; vLLM's own are about 25 bytes.
    package static let maxChatIDLength = 256

    package init(signer: ExchangeSigner, store: SignatureStore<SignatureRecord>, metrics: ProxyMetrics, mode: SigningMode) {
        self.signer = signer
        self.store = store
        self.metrics = metrics
        self.mode = mode
    }

    /// A signed (eager) or signable (lazy) exchange that is not visible yet: `publish` it once the
    /// bytes it covers have been written completely, or `drop` it (API.md §6).
    package struct PreparedRecord: Sendable {
        package let chatID: String
        fileprivate let record: SignatureRecord
    }

    /// Builds the record for a clean exchange without storing it: signed now (eager) or text only (lazy).
    ///
    /// Call it before the exchange's terminal bytes are released, so signing never races the client.
    /// - Returns: `nil` (counted as unsigned) if the id is too long, already taken, or signing fails.
    package func prepare(chatID: String, requestHash: String, responseHash: String, logger: Logger) -> PreparedRecord? {
        // Callers can choose ids (vLLM honours `request_id`); a cap keeps the store's memory bounded.
        guard chatID.utf8.count <= Self.maxChatIDLength else {
            metrics.increment(.signaturesUnsigned)
            logger.warning("chat id longer than \(Self.maxChatIDLength) bytes; left unsigned")
            return nil
        }
        // Saves signing an exchange that would lose at `publish` anyway; `publish` still decides.
        guard store.lookup(chatID) == nil else {
            countDuplicate(chatID, logger: logger)
            return nil
        }
        let record: SignatureRecord
        switch mode {
        case .eager:
            do {
                record = try signer.sign(requestHash: requestHash, responseHash: responseHash)
            } catch {
                metrics.increment(.signaturesUnsigned)
                logger.error("signing failed", metadata: ["error": "\(error)"])
                return nil
            }
        case .lazy:
            record = SignatureRecord(text: signer.text(requestHash: requestHash, responseHash: responseHash))
        }
        return PreparedRecord(chatID: chatID, record: record)
    }

    /// Makes a prepared record visible, once every byte it covers has been written; first writer wins.
    /// - Returns: whether it was stored (`false`: another exchange stored the id first, counted as a duplicate).
    @discardableResult
    package func publish(_ prepared: PreparedRecord, logger: Logger) -> Bool {
        guard store.insert(prepared.record, for: prepared.chatID) else {
            countDuplicate(prepared.chatID, logger: logger)
            return false
        }
        metrics.increment(.signaturesStored)
        return true
    }

    /// Discards a prepared record whose bytes were not all delivered (the write failed or the connection
    /// closed first): it is never stored, and it is counted.
    package func drop(_ prepared: PreparedRecord) {
        metrics.increment(.signaturesDroppedUndelivered)
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

    private func countDuplicate(_ chatID: String, logger: Logger) {
        metrics.increment(.duplicateChatIDs)
        logger.warning("chat id already signed; this completion stays unsigned", metadata: ["chat.id": "\(chatID)"])
    }

    /// The unexpired record for `chatID`, whose signatures may still be missing in lazy mode.
    package func lookup(_ chatID: String) -> SignatureRecord? {
        store.lookup(chatID)
    }

    /// `algorithm`'s signature over `record.text`: the stored one, or computed now and cached in the
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
        let computed: String
        do {
            computed = try signer.signature(algorithm, over: record.text)
        } catch {
            logger.error("signing on lookup failed", metadata: ["error": "\(error)"])
            throw .internalError
        }
        metrics.increment(.signaturesSignedOnLookup)
        // The text check keeps a signature off a record that replaced an expired one meanwhile.
        let cached = store.update(chatID) { stored in
            if stored.text == record.text && stored[algorithm] == nil { stored[algorithm] = computed }
        }
        if let cached, cached.text == record.text, let signature = cached[algorithm] { return signature }
        return computed
    }
}
