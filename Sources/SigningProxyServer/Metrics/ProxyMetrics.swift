import SigningCore
import Synchronization

/// Counters exported at `/metrics` in Prometheus text format.
///
/// A handful of counters, no labels: nothing from a request can reach the output.
package final class ProxyMetrics: Sendable {
    package enum Counter: Int, CaseIterable, Sendable {
        case completionRequests
        case streamingResponses
        case jsonResponses
        case signaturesStored
        case signaturesUnsigned
        case duplicateChatIDs
        case signaturesDroppedUndelivered
        case upstreamErrors
        case upstreamTimeouts
        case upstreamStatusErrors
        case upstreamCutMidStream
        case clientDisconnects
        case rejectedRequests
        case signatureLookups
        case signaturesSignedOnLookup
        case attestationReports
        case clientTimeouts
        case connectionsRefused
        case rateLimited
        case sharedStoreWrites
        case sharedStoreWriteTimeouts
        case sharedStoreWriteErrors
        case sharedStoreWritesSkipped
        case sharedStoreDuplicates
        case sharedStoreRetractions
        case sharedStoreBacklogged
        case sharedStoreBackfilled
        case sharedStoreBacklogDropped
        case signatureLookupLocalHits
        case signatureLookupSharedHits
        case signatureLookupMisses
        case sharedStoreLookupErrors
        case replayClaimsShared
        case replayClaimsLocalFallback

        var name: String {
            switch self {
            case .completionRequests: "signing_proxy_completion_requests_total"
            case .streamingResponses: "signing_proxy_streaming_responses_total"
            case .jsonResponses: "signing_proxy_json_responses_total"
            case .signaturesStored: "signing_proxy_signatures_stored_total"
            case .signaturesUnsigned: "signing_proxy_responses_unsigned_total"
            case .duplicateChatIDs: "signing_proxy_duplicate_chat_ids_total"
            case .signaturesDroppedUndelivered: "signing_proxy_signatures_dropped_undelivered_total"
            case .upstreamErrors: "signing_proxy_upstream_unavailable_total"
            case .upstreamTimeouts: "signing_proxy_upstream_timeouts_total"
            case .upstreamStatusErrors: "signing_proxy_upstream_status_errors_total"
            case .upstreamCutMidStream: "signing_proxy_upstream_cut_mid_stream_total"
            case .clientDisconnects: "signing_proxy_client_disconnects_total"
            case .rejectedRequests: "signing_proxy_rejected_requests_total"
            case .signatureLookups: "signing_proxy_signature_lookups_total"
            case .signaturesSignedOnLookup: "signing_proxy_signatures_signed_on_lookup_total"
            case .attestationReports: "signing_proxy_attestation_reports_total"
            case .clientTimeouts: "signing_proxy_client_timeouts_total"
            case .connectionsRefused: "signing_proxy_connections_refused_total"
            case .rateLimited: "signing_proxy_rate_limited_total"
            case .sharedStoreWrites: "signing_proxy_shared_store_writes_total"
            case .sharedStoreWriteTimeouts: "signing_proxy_shared_store_write_timeouts_total"
            case .sharedStoreWriteErrors: "signing_proxy_shared_store_write_errors_total"
            case .sharedStoreWritesSkipped: "signing_proxy_shared_store_writes_skipped_total"
            case .sharedStoreDuplicates: "signing_proxy_shared_store_duplicates_total"
            case .sharedStoreRetractions: "signing_proxy_shared_store_retractions_total"
            case .sharedStoreBacklogged: "signing_proxy_shared_store_backlogged_total"
            case .sharedStoreBackfilled: "signing_proxy_shared_store_backfilled_total"
            case .sharedStoreBacklogDropped: "signing_proxy_shared_store_backlog_dropped_total"
            case .signatureLookupLocalHits: "signing_proxy_signature_lookup_local_hits_total"
            case .signatureLookupSharedHits: "signing_proxy_signature_lookup_shared_hits_total"
            case .signatureLookupMisses: "signing_proxy_signature_lookup_misses_total"
            case .sharedStoreLookupErrors: "signing_proxy_shared_store_lookup_errors_total"
            case .replayClaimsShared: "signing_proxy_e2ee_replay_claims_shared_total"
            case .replayClaimsLocalFallback: "signing_proxy_e2ee_replay_claims_local_fallback_total"
            }
        }
    }

    // One lock for all counters: a few uncontended increments per request cost less than a metrics backend.
    private let values = Mutex([Int](repeating: 0, count: Counter.allCases.count))

    /// Exported as the `signing_proxy_lazy_signing` gauge (1 with `SIGNING_MODE=lazy`).
    private let signingMode: SigningMode

    /// Exported as the `signing_proxy_shared_store_up` gauge: nil without a shared store (no gauge), else whether
    /// Redis is in use (docs/API.md, "Shared receipt store").
    private let sharedStoreUp = Mutex<Bool?>(nil)

    package func setSharedStoreUp(_ up: Bool) {
        sharedStoreUp.withLock { $0 = up }
    }

    package init(signingMode: SigningMode = .eager) {
        self.signingMode = signingMode
    }

    package func increment(_ counter: Counter) {
        values.withLock { $0[counter.rawValue] += 1 }
    }

    package func value(_ counter: Counter) -> Int {
        values.withLock { $0[counter.rawValue] }
    }

    /// Prometheus text exposition of every counter, the signature store size and the signing mode.
    package func render(storedSignatures: Int) -> String {
        var text = ""
        for counter in Counter.allCases {
            text += "# TYPE \(counter.name) counter\n\(counter.name) \(value(counter))\n"
        }
        text += "# TYPE signing_proxy_signature_store_entries gauge\nsigning_proxy_signature_store_entries \(storedSignatures)\n"
        text += "# TYPE signing_proxy_lazy_signing gauge\nsigning_proxy_lazy_signing \(signingMode == .lazy ? 1 : 0)\n"
        if let up = sharedStoreUp.withLock({ $0 }) {
            text += "# TYPE signing_proxy_shared_store_up gauge\nsigning_proxy_shared_store_up \(up ? 1 : 0)\n"
        }
        return text
    }
}
