#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Dates in Intel collateral: RFC 3339 UTC (`2026-10-08T00:09:46Z`) in JSON, and ASN.1 times in CRLs.
enum PCSTime {
    /// Parses `YYYY-MM-DDTHH:MM:SS` with an optional fraction and `Z` (the only zone PCS uses).
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[range] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        let separators: [(Int, Character)] = [(4, "-"), (7, "-"), (10, "T"), (13, ":"), (16, ":")]
        for (index, character) in separators where bytes[index] != character.asciiValue {
            return nil
        }
        // A fraction, if any, sits between the seconds and "Z"; whole seconds are precise enough.
        if bytes.count > 20 {
            guard bytes[19] == UInt8(ascii: "."), bytes[20..<(bytes.count - 1)].allSatisfy({ (0x30...0x39).contains($0) }) else {
                return nil
            }
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hours = number(11..<13),
            let minutes = number(14..<16), let seconds = number(17..<19)
        else { return nil }
        return date(year: year, month: month, day: day, hours: hours, minutes: minutes, seconds: seconds)
    }

    /// A UTC date from its fields, or nil when a field is out of range.
    static func date(year: Int, month: Int, day: Int, hours: Int, minutes: Int, seconds: Int) -> Date? {
        guard (1...12).contains(month), (1...31).contains(day), (0...23).contains(hours), (0...59).contains(minutes),
            (0...60).contains(seconds)
        else { return nil }
        // Days from 1970-01-01 in the proleptic Gregorian calendar (civil-from-days inverse).
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: TimeInterval(days * 86_400 + hours * 3_600 + minutes * 60 + seconds))
    }
}
