/// Calls `body` with the bytes of `bytes` as one contiguous buffer, copying only when the collection
/// has no contiguous storage of its own.
func withContiguousBytes<Bytes: Collection<UInt8>, Result>(
    _ bytes: Bytes,
    _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
) rethrows -> Result {
    if let result = try bytes.withContiguousStorageIfAvailable(body) {
        return result
    }
    return try Array(bytes).withUnsafeBufferPointer(body)
}
