import Foundation

/// Reads HTTP/1.x responses from raw bytes, one after another, keeping the body exactly as framed.
///
/// Strict where the framing decides what a client believes it received: a head ends with CRLF CRLF,
/// chunk lines end with CRLF, a close-delimited body is complete only at a clean EOF. 1xx interim
/// answers are recorded and skipped. Bytes after a complete response start the next one, so an
/// unsolicited second answer on a connection is seen as such.
struct HTTPResponseParser {
    /// One parsed response.
    struct Response {
        var version = ""
        var status = 0
        var headers: [(name: String, value: String)] = []
        /// The body as the framing delivers it (de-chunked).
        var body: [UInt8] = []
        var framing = Framing.none
        var complete = false

        func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name }?.value
        }

        /// `Connection: close` or HTTP/1.0 without keep-alive: the server will close after this answer.
        var closes: Bool {
            let connection = header("connection")?.lowercased() ?? ""
            return connection.contains("close") || (version == "HTTP/1.0" && !connection.contains("keep-alive"))
        }
    }

    enum Framing: String, Codable {
        case none, length, chunked, untilClose
    }

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    /// Completed responses, oldest first.
    private(set) var responses: [Response] = []
    /// The response being read, if its head has arrived.
    private(set) var current: Response?
    /// Interim (1xx) statuses seen, in order.
    private(set) var interim: [Int] = []
    /// The first framing violation, if any; parsing stops there.
    private(set) var error: String?
    /// Bytes received in all (heads included).
    private(set) var receivedBytes = 0

    private var state = State.head
    private var pending: [UInt8] = []
    private let headRequest: Bool

    init(headRequest: Bool = false) {
        self.headRequest = headRequest
    }

    /// Whether the parser is between responses with nothing pending.
    var isIdle: Bool {
        if case .head = state { return pending.isEmpty && current == nil }
        return false
    }

    /// The response in progress or the last complete one.
    var latest: Response? { current ?? responses.last }

    mutating func feed(_ bytes: [UInt8]) {
        receivedBytes += bytes.count
        guard error == nil else { return }
        pending += bytes
        var index = 0
        loop: while index < pending.count, error == nil {
            switch state {
            case .head:
                guard let end = Self.find(Self.crlfcrlf, in: pending, from: index) else { break loop }
                parseHead(Array(pending[index..<end]))
                index = end + 4
            case .fixed(let remaining):
                let take = min(remaining, pending.count - index)
                current?.body += pending[index..<(index + take)]
                index += take
                if take == remaining { finishResponse() } else { state = .fixed(remaining: remaining - take) }
            case .chunkSize:
                guard let newline = pending[index...].firstIndex(of: 0x0A) else {
                    if pending.count - index > 4096 { error = "chunk size line over 4096 bytes" }
                    break loop
                }
                guard newline > index, pending[newline - 1] == 0x0D else {
                    error = "chunk size line not ended by CRLF"
                    break loop
                }
                let line = pending[index..<(newline - 1)]
                let sizeText = line.prefix { $0 != UInt8(ascii: ";") }
                guard !sizeText.isEmpty, sizeText.count <= 15,
                    let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16)
                else {
                    error = "bad chunk size \(String(decoding: line.prefix(40), as: UTF8.self).debugDescription)"
                    break loop
                }
                index = newline + 1
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let take = min(remaining, pending.count - index)
                current?.body += pending[index..<(index + take)]
                index += take
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
            case .chunkDataEnd:
                guard pending.count - index >= 2 else { break loop }
                guard pending[index] == 0x0D, pending[index + 1] == 0x0A else {
                    error = "chunk data not followed by CRLF"
                    break loop
                }
                index += 2
                state = .chunkSize
            case .trailers:
                guard let newline = pending[index...].firstIndex(of: 0x0A) else { break loop }
                let empty = newline == index + 1 && pending[index] == 0x0D
                index = newline + 1
                if empty { finishResponse() }
            case .untilClose:
                current?.body += pending[index...]
                index = pending.count
            case .done:
                break loop
            }
        }
        pending.removeFirst(index)
    }

    /// The server closed the connection: a close-delimited body ends here, complete.
    mutating func endOfStream() {
        if case .untilClose = state { finishResponse() }
    }

    private mutating func parseHead(_ bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines.first ?? ""
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...999).contains(status) else {
            error = "bad status line \(String(statusLine.prefix(60)).debugDescription)"
            return
        }
        var response = Response()
        response.version = String(parts[0])
        response.status = status
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                error = "header line without colon"
                return
            }
            response.headers.append(
                (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        if (100...199).contains(status) && status != 101 {
            interim.append(status)
            return
        }
        current = response
        if headRequest || status == 204 || status == 304 {
            current?.framing = .none
            finishResponse()
        } else if response.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            current?.framing = .chunked
            state = .chunkSize
        } else if let length = response.header("content-length").flatMap({ Int($0) }), length >= 0 {
            current?.framing = .length
            if length == 0 { finishResponse() } else { state = .fixed(remaining: length) }
        } else {
            current?.framing = .untilClose
            state = .untilClose
        }
    }

    private mutating func finishResponse() {
        guard var response = current else { return }
        response.complete = true
        responses.append(response)
        current = nil
        state = .head
    }

    private static let crlfcrlf: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A]

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count - start >= needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0] && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
