import TDX

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A quote as a user may hold it: hex text, raw bytes, or JSON with `quote`/`intel_quote` (and maybe `event_log`).
struct QuoteInput {
    var quote: [UInt8]
    var eventLog: EventLogField?

    private struct Document: Decodable {
        var quote: String?
        var intelQuote: String?
        var eventLog: EventLogField?

        private enum CodingKeys: String, CodingKey {
            case quote
            case intelQuote = "intel_quote"
            case eventLog = "event_log"
        }
    }

    static func parse(_ input: [UInt8]) -> Result<QuoteInput, LenientJSON.Failure> {
        let text = String(decoding: input, as: UTF8.self).trimmingASCIIWhitespace()
        if text.hasPrefix("{") {
            let document: Document
            switch LenientJSON.decode(Document.self, from: Array(text.utf8), what: "quote JSON") {
            case .failure(let failure): return .failure(failure)
            case .success(let decoded): document = decoded
            }
            guard let hex = document.intelQuote ?? document.quote else {
                return .failure(.init(description: "the JSON holds neither \"quote\" nor \"intel_quote\""))
            }
            guard let quote = HexFormatting.decode(hex) else {
                return .failure(.init(description: "the quote field is not hex"))
            }
            return .success(QuoteInput(quote: quote, eventLog: document.eventLog))
        }
        if !text.isEmpty, let quote = HexFormatting.decode(text) {
            return .success(QuoteInput(quote: quote, eventLog: nil))
        }
        // Binary quotes start with version 4 or 5 as u16 LE.
        if input.count >= 2, input[0] == 4 || input[0] == 5, input[1] == 0 {
            return .success(QuoteInput(quote: input, eventLog: nil))
        }
        return .failure(.init(description: "input is neither hex, a binary quote, nor JSON with a quote"))
    }
}
