import Logging
import SigningCore

/// Records clean exchanges in the signature store and hands out their signatures (API.md §6, §7).
///
/// `SIGNING_MODE=eager` signs both algorithms before the record is stored, so before the response's
/// last bytes are written. `lazy` stores the signed text only and signs each algorithm on the first
/// lookup that asks for it, caching the result in the same record. Either way records live in this
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

    /// Stores a clean exchange, signed now (eager) or on first lookup (lazy); a second completion with
    /// the same id stays unsigned (API.md §6).
    /// - Returns: whether a record was stored for `chatID`.
    @discardableResult
    package func record(chatID: String, requestHash: String, responseHash: String, logger: Logger) -> Bool {
        // Callers can choose ids (vLLM honours `request_id`); a cap keeps the store's memory bounded.
        guard chatID.utf8.count <= Self.maxChatIDLength else {
            metrics.increment(.signaturesUnsigned)
            logger.warning("chat id longer than \(Self.maxChatIDLength) bytes; left unsigned")
            return false
        }
        let record: SignatureRecord
        switch mode {
        case .eager:
            do {
                record = try signer.sign(requestHash: requestHash, responseHash: responseHash)
            } catch {
                metrics.increment(.signaturesUnsigned)
                logger.error("signing failed", metadata: ["error": "\(error)"])
                return false
            }
        case .lazy:
            record = SignatureRecord(text: signer.text(requestHash: requestHash, responseHash: responseHash))
        }
        guard store.insert(record, for: chatID) else {
            metrics.increment(.duplicateChatIDs)
            logger.warning("chat id already signed; this completion stays unsigned", metadata: ["chat.id": "\(chatID)"])
            return false
        }
        metrics.increment(.signaturesStored)
        return true
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
